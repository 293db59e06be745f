"""What a person is shown before a kernel is used, and what they answer.

The request carries the evidence, not a pointer to it: `kevolve review show` (and later the web
page) render it without re-running anything, and it is the same payload the graph's `interrupt`
stored in the checkpoint.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.profile_summary import render_profile_summary
from kevolve.eval_harness.results import EvalResult, TimingStats, TrialOutcome
from kevolve.tools.candidates import Diagnosis, SearchNode

from .run_directory import RunDirectory
from .search_tree import DeviceSearch


class TimingEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="candidate, eager or compiled")
    median_ms: float
    q1_ms: float
    q3_ms: float
    trials: int


class ApprovalRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    review_id: str = Field(description="<run id>:<node id>, what `kevolve review` takes")
    run_id: str
    problem: str
    device: str
    node_id: str
    stop_reason: str
    source: str
    diff_against_previous_best: str = Field(description="unified diff; against the reference when there was none")
    previous_best: str | None
    correctness_trials: list[TrialOutcome]
    worst_abs_error: float | None
    worst_rel_error: float | None
    timings: list[TimingEvidence]
    speedup_eager: float | None
    speedup_compiled: float | None
    percent_of_light: float | None
    beats_baselines: bool | None = Field(description="faster than every baseline at the harness's confidence level")
    profile_summary: str
    diagnosis: Diagnosis | None
    flags: list[str]
    findings: list[str] = Field(description="every static and dynamic check that said something")


class ApprovalDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    approved: bool
    reviewer: str
    comment: str | None = None
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    automatic: bool = Field(default=False, description="--auto-approve: recorded, nobody looked")


def previous_best(search: DeviceSearch, node: SearchNode) -> SearchNode | None:
    """The best accepted candidate found in the rounds before `node`'s."""
    earlier = [other for other in search.nodes.values() if other.accepted and other.round < node.round]
    return max(earlier, key=lambda other: (other.fitness, -other.round)) if earlier else None


def _timing(name: str, stats: TimingStats | None) -> list[TimingEvidence]:
    if stats is None:
        return []
    return [TimingEvidence(name=name, median_ms=stats.median_ms, q1_ms=stats.q1_ms, q3_ms=stats.q3_ms,
                           trials=stats.trials)]


def build_request(
    run: RunDirectory, search: DeviceSearch, node: SearchNode, *, problem_name: str, reference_source: str
) -> ApprovalRequest:
    result: EvalResult = run.read_evaluation(node.evaluation_file)
    source = run.read_text(node.source_file)
    before = previous_best(search, node)
    old_source, old_name = (
        (run.read_text(before.source_file), before.id) if before is not None else (reference_source, "reference")
    )
    diff = "".join(difflib.unified_diff(
        old_source.splitlines(keepends=True), source.splitlines(keepends=True), fromfile=old_name, tofile=node.id
    ))
    baselines = result.baselines
    correctness = result.correctness
    return ApprovalRequest(
        review_id=f"{run.run_id}:{node.id}",
        run_id=run.run_id,
        problem=problem_name,
        device=search.device,
        node_id=node.id,
        stop_reason=search.stop.value if search.stop else "",
        source=source,
        diff_against_previous_best=diff,
        previous_best=before.id if before is not None else None,
        correctness_trials=correctness.trials if correctness else [],
        worst_abs_error=correctness.worst_abs_error if correctness else None,
        worst_rel_error=correctness.worst_rel_error if correctness else None,
        timings=[
            *_timing("candidate", result.timing),
            *_timing("eager", baselines.eager if baselines else None),
            *_timing("compiled", baselines.compiled if baselines else None),
        ],
        speedup_eager=result.speedup_over("eager"),
        speedup_compiled=result.speedup_over("compiled"),
        percent_of_light=result.percent_of_light,
        beats_baselines=node.outcome.beats_baselines,
        profile_summary=render_profile_summary(result),
        diagnosis=node.diagnosis,
        flags=result.flags,
        findings=[f"{f.severity.value} {f.rule} ({f.origin}): {f.reason}" for f in result.findings],
    )
