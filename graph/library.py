"""Writing approved kernels into the kernel library (its layout: kevolve.tools.kernel_library.records).

Each kernel keeps the facts needed to trust, reproduce and re-check it: the exact input signatures
its correctness trials passed on, and the problem's source, so export and re-validation need no run folder.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.results import EvalResult
from kevolve.tools.kernel_library.records import KernelRecord, problem_file_name, verified_signatures

from .approval import ApprovalDecision

logger = logging.getLogger(__name__)


def write_kernel(
    library: Path,
    *,
    source: str,
    result: EvalResult,
    problem: Problem,
    decision: ApprovalDecision,
    policy: str,
    run_id: str,
    node_id: str,
) -> Path:
    """Writes the source and its record; returns the source's path."""
    environment = result.environment
    placement = (environment.hardware_spec or environment.device_name) if environment else "unknown-device"
    folder = library / _safe(result.problem) / _safe(placement)
    folder.mkdir(parents=True, exist_ok=True)
    problem_file = _write_problem(library, problem, result)
    record = KernelRecord(
        problem=result.problem,
        problem_sha256=result.problem_sha256,
        source_sha256=result.candidate_sha256 or "",
        device=environment.device if environment else "",
        device_name=environment.device_name if environment else None,
        hardware_spec=environment.hardware_spec if environment else None,
        policy=policy,
        dtype=result.dtype,
        speedup_eager=result.speedup_over("eager"),
        speedup_compiled=result.speedup_over("compiled"),
        percent_of_light=result.percent_of_light,
        torch_version=environment.torch_version if environment else None,
        triton_version=environment.triton_version if environment else None,
        cuda_version=environment.cuda_version if environment else None,
        driver_version=environment.driver_version if environment else None,
        run_id=run_id,
        node_id=node_id,
        approved_by=decision.reviewer,
        approved_at=decision.decided_at,
        automatic_approval=decision.automatic,
        comment=decision.comment,
        verified_signatures=verified_signatures(result),
        problem_file=problem_file,
    )
    kernel = folder / f"{node_id}.py"
    kernel.write_text(source)
    (folder / f"{node_id}.json").write_text(record.model_dump_json(indent=2))
    return kernel


def _write_problem(library: Path, problem: Problem, result: EvalResult) -> str | None:
    """The problem's source beside its kernels; None when the file changed since it was evaluated."""
    if problem.sha256 != result.problem_sha256:
        logger.warning("%s changed since the kernel was verified: its reference is not kept in the library",
                       problem.path or problem.name)
        return None
    relative = Path(_safe(result.problem)) / problem_file_name(problem.sha256)
    (library / relative).write_text(problem.source)
    return relative.as_posix()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
