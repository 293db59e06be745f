"""Writing approved kernels into the kernel library (its layout: kevolve.tools.kernel_library.records).

Each kernel keeps the facts needed to trust, reproduce and re-check it: the exact input signatures
its correctness trials passed on, and the problem's source, so export and re-validation need no run folder.

Everything written comes from a run folder, which may be hostile: every name that becomes a path is
checked (kevolve.tools.safe_names), every path written must resolve inside the library, and the
source must hash to both the harness's verified candidate and the decision's evidence. Any doubt
refuses the write before a byte is written.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kevolve.eval_harness.problem import Problem, sha256_text
from kevolve.eval_harness.results import EvalResult
from kevolve.tools.kernel_library.records import (
    KernelRecord,
    kernel_file,
    mark_library,
    problem_file_name,
    verified_signatures,
)
from kevolve.tools.safe_names import UnsafeName, checked_name

from .approval import ApprovalDecision, EvidenceMismatch

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
    written_by: str | None = None,
) -> Path:
    """Writes the source and its record; returns the source's path. Raises UnsafeName or EvidenceMismatch,
    having written nothing, for a name that could leave the library or a source that is not the one verified."""
    environment = result.environment
    kernel = library / kernel_file(result, node_id)
    checked_name("run id", run_id)
    _check_source(source, result, decision, node_id)
    for path in (kernel, kernel.with_suffix(".json"), library / result.problem / problem_file_name(problem.sha256)):
        _check_inside(library, path)
    mark_library(library)
    kernel.parent.mkdir(parents=True, exist_ok=True)
    problem_file = _write_problem(library, problem, result)
    record = KernelRecord(
        written_by=written_by,
        problem=result.problem,
        problem_sha256=result.problem_sha256,
        source_sha256=sha256_text(source),
        device=environment.device if environment else "",
        device_name=environment.device_name if environment else None,
        hardware_spec=environment.hardware_spec if environment else None,
        policy=policy,
        dtype=result.dtype,
        math=result.math,
        reference_switches=result.reference_switches,
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
    # Bytes, not text: no newline translation, so the file hashes exactly as the verified source did.
    kernel.write_bytes(source.encode())
    kernel.with_suffix(".json").write_text(record.model_dump_json(indent=2))
    return kernel


def _check_source(source: str, result: EvalResult, decision: ApprovalDecision, node_id: str) -> None:
    digest = sha256_text(source)
    if digest != result.candidate_sha256:
        raise EvidenceMismatch(f"{node_id}'s source (sha256 {digest}) is not the candidate the harness verified "
                               f"(sha256 {result.candidate_sha256}); nothing was written to the library")
    if digest != decision.source_sha256 or decision.node_id != node_id:
        raise EvidenceMismatch(f"the decision names {decision.node_id} with sha256 {decision.source_sha256}, not "
                               f"{node_id} with sha256 {digest}; nothing was written to the library")


def _check_inside(library: Path, path: Path) -> None:
    """Refuses a path that resolves outside the library: a symlinked folder or file placed to redirect a write."""
    if not path.resolve().is_relative_to(library.resolve()):
        raise UnsafeName(f"{path} resolves outside the library {library} (a symbolic link?): nothing was written")


def _write_problem(library: Path, problem: Problem, result: EvalResult) -> str | None:
    """The problem's source beside its kernels; None when the file changed since it was evaluated."""
    if problem.sha256 != result.problem_sha256:
        logger.warning("%s changed since the kernel was verified: its reference is not kept in the library",
                       problem.path or problem.name)
        return None
    relative = Path(result.problem) / problem_file_name(problem.sha256)
    (library / relative).write_bytes(problem.source.encode())
    return relative.as_posix()
