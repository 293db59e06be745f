"""The kernel library: approved kernels with the facts needed to trust, reproduce and re-check them.

    <library>/<problem>/<hardware spec or device>/<node id>.py    the kernel's source
    <library>/<problem>/<hardware spec or device>/<node id>.json  its KernelRecord
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.results import EvalResult

from .approval import ApprovalDecision


class KernelRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem: str
    problem_sha256: str
    source_sha256: str
    device: str
    device_name: str | None
    hardware_spec: str | None
    policy: str
    dtype: str
    speedup_eager: float | None
    speedup_compiled: float | None
    percent_of_light: float | None
    torch_version: str | None
    triton_version: str | None
    cuda_version: str | None
    driver_version: str | None
    run_id: str
    node_id: str
    approved_by: str
    approved_at: datetime
    automatic_approval: bool = Field(description="true when nobody looked (--auto-approve)")
    comment: str | None = None


def write_kernel(
    library: Path,
    *,
    source: str,
    result: EvalResult,
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
    )
    kernel = folder / f"{node_id}.py"
    kernel.write_text(source)
    (folder / f"{node_id}.json").write_text(record.model_dump_json(indent=2))
    return kernel


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
