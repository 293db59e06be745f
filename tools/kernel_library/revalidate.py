"""`kevolve library revalidate`: every library kernel through the harness again, under today's software.

A kernel that became wrong (or that the static checks now refuse), or measurably slower than a
baseline, is disabled: its status file says so and why, and export leaves it out. A disabled
kernel that passes again is re-enabled. Kernels verified on another kind of device, or another
GPU model, are skipped, not judged: a kernel's speed on one GPU says nothing about another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from kevolve.eval_harness import Evaluator
from kevolve.eval_harness.compare import Verdict
from kevolve.eval_harness.problem import ProblemLoadError, problem_from_source
from kevolve.eval_harness.results import Environment, EvalResult, Severity
from kevolve.eval_harness.settings import EvalSettings, Policy

from .declared_shapes import DeclaredShapes
from .records import KernelStatus, LibraryEntry, verified_signatures, write_status


class Outcome(StrEnum):
    STILL_ENABLED = "still enabled"
    DISABLED = "disabled"
    RE_ENABLED = "re-enabled"
    STILL_DISABLED = "still disabled"
    SKIPPED = "skipped"

    @property
    def changed(self) -> bool:
        return self in (Outcome.DISABLED, Outcome.RE_ENABLED)


@dataclass(frozen=True)
class KernelCheck:
    entry: LibraryEntry
    outcome: Outcome
    reason: str
    timing_checked: bool = False


def _elsewhere(entry: LibraryEntry, environment: Environment) -> str | None:
    """Why this machine cannot judge the kernel, or None when it can."""
    record = entry.record
    kind, here = record.device.split(":")[0], environment.device.split(":")[0]
    if kind != here:
        return f"verified on {kind}, this evaluation runs on {here}"
    if kind != "cpu" and record.device_name != environment.device_name:
        return f"verified on {record.device_name}, this device is {environment.device_name}"
    return None


def _was_faster(entry: LibraryEntry, baseline: str) -> bool:
    """Whether approval measured the kernel at least as fast as `baseline` (unknown counts as yes)."""
    speedup = {"eager": entry.record.speedup_eager, "compiled": entry.record.speedup_compiled}.get(baseline)
    return speedup is None or speedup >= 1.0


def judge(entry: LibraryEntry, result: EvalResult) -> tuple[bool, str]:
    """(still trusted, why) from a fresh evaluation.

    Slower means measurably slower (the comparison's confidence interval) than a baseline the
    kernel was not slower than at approval: a person may knowingly approve a kernel that loses to
    torch.compile, and re-validation must not undo that decision when nothing changed.
    """
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    if not result.correct or errors:
        kind = result.error.kind.value if result.error else "refused by the static checks"
        message = result.error.message if result.error else "; ".join(f"{f.rule}: {f.reason}" for f in errors)
        return False, f"{result.status.value} ({kind}): {message.strip().splitlines()[-1] if message else ''}"
    slower = [c for c in result.comparisons if c.verdict == Verdict.SLOWER.value and _was_faster(entry, c.baseline)]
    if slower:
        return False, "slower than " + ", ".join(f"{c.baseline} ({c.speedup:.2f}x)" for c in slower)
    if not result.environment or not result.environment.timing_meaningful:
        return True, "correct; timings skipped (not meaningful on this device)"
    return True, "correct and not slower than " + ", ".join(f"{c.baseline} ({c.speedup:.2f}x)"
                                                            for c in result.comparisons)


def _status(result: EvalResult, trusted: bool, reason: str, environment: Environment) -> KernelStatus:
    return KernelStatus(
        enabled=trusted,
        reason=reason,
        checked_at=datetime.now(UTC),
        device=environment.device,
        device_name=environment.device_name,
        torch_version=environment.torch_version,
        triton_version=environment.triton_version,
        driver_version=environment.driver_version,
        timing_checked=environment.timing_meaningful,
        speedup_eager=result.speedup_over("eager"),
        speedup_compiled=result.speedup_over("compiled"),
        verified_signatures=verified_signatures(result),
        reference_switches=result.reference_switches,
    )


def _outcome(was_enabled: bool, trusted: bool) -> Outcome:
    if trusted:
        return Outcome.STILL_ENABLED if was_enabled else Outcome.RE_ENABLED
    return Outcome.DISABLED if was_enabled else Outcome.STILL_DISABLED


def revalidate_entry(entry: LibraryEntry, evaluator: Evaluator, settings: EvalSettings,
                     declared: DeclaredShapes | None = None) -> KernelCheck:
    environment = evaluator.worker().environment
    if environment is None:
        return KernelCheck(entry, Outcome.SKIPPED, "the worker did not describe its device")
    elsewhere = _elsewhere(entry, environment)
    if elsewhere:
        return KernelCheck(entry, Outcome.SKIPPED, elsewhere)
    if entry.problem_path is None or not entry.problem_path.is_file():
        return KernelCheck(entry, Outcome.SKIPPED, "the library does not keep its problem source")
    try:
        problem = problem_from_source(entry.problem_path.read_text(), name=entry.record.problem,
                                      path=str(entry.problem_path))
    except ProblemLoadError as exc:
        return KernelCheck(entry, Outcome.SKIPPED, f"its problem source no longer loads: {exc}")
    if problem.sha256 != entry.record.problem_sha256:
        return KernelCheck(entry, Outcome.SKIPPED, "its problem source was edited after approval")
    if declared is not None:
        try:
            problem = declared.apply(problem, on_cpu=not environment.device.startswith("cuda"))
        except ProblemLoadError as exc:
            return KernelCheck(entry, Outcome.SKIPPED, str(exc))
    # One worker serves every kernel; only the request's settings change with the record's policy and precision
    # regime: a kernel is re-checked (and its baselines re-measured) in the regime it was verified in.
    evaluator.settings = settings.model_copy(update={"policy": Policy(entry.record.policy),
                                                     "math": entry.record.math})
    # The source as checked against its record (read_library refused a changed file; this reads it once more).
    result = evaluator.evaluate(problem, entry.source(), name=entry.record.node_id)
    trusted, reason = judge(entry, result)
    reason = f"{reason}; in {entry.record.math.label}"
    status = write_status(entry, _status(result, trusted, reason, result.environment or environment)).status
    return KernelCheck(entry, _outcome(entry.enabled, trusted), reason, timing_checked=status.timing_checked)


def revalidate_library(entries: list[LibraryEntry], evaluator: Evaluator, settings: EvalSettings,
                       declared: DeclaredShapes | None = None) -> list[KernelCheck]:
    return [revalidate_entry(entry, evaluator, settings, declared) for entry in entries]
