"""What a person is shown before a kernel is used, and what they answer.

The request carries the evidence, not a pointer to it: `kevolve review show` (and later the web
page) render it without re-running anything, and it is the same payload the graph's `interrupt`
stored in the checkpoint.

A decision names the evidence it was made on: the review id, the node and the sha256 of the source
shown. An approval writes that source, the checkpoint's copy, never a file read again: the run
resumes with the request it read from the checkpoint beside the decision (a DecisionRecord), and
`approved_kernel` refuses, before anything is written, when the decision, the request, the search
tree and the harness's verified candidate hash do not all name the same kernel.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.precision import MathMode
from kevolve.eval_harness.problem import sha256_text
from kevolve.eval_harness.profile_summary import render_profile_summary
from kevolve.eval_harness.results import EvalResult, TimingStats, TrialOutcome
from kevolve.tools.candidates import Diagnosis, SearchNode
from kevolve.tools.kernel_library.records import kernel_file

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
    math: MathMode | None = Field(default=None, description="the precision regime every figure here holds for; "
                                  "None in requests made before regimes")
    written_by: str | None = Field(default=None, description="who wrote the kernel: the offline engine, a seed, or "
                                   "the model and its call (CandidateOrigin.describe); None where not recorded")

    @property
    def regime(self) -> str:
        """The regime as every page and terminal names it."""
        return self.math.label if self.math is not None else "not recorded (requested before precision regimes)"

    @property
    def source_sha256(self) -> str:
        """The hash of the source shown: what a decision names, and what the library file will hash to."""
        return sha256_text(self.source)


class ApprovalDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    approved: bool
    reviewer: str
    comment: str | None = None
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    automatic: bool = Field(default=False, description="--auto-approve: recorded, nobody looked")
    # The evidence: None only in decisions recorded before decisions named it (decisions.jsonl keeps
    # them); such a decision cannot be carried out now.
    review_id: str | None = Field(default=None, description="the request decided on")
    node_id: str | None = Field(default=None, description="the node decided on")
    source_sha256: str | None = Field(default=None, description="sha256 of the source the reviewer was shown")

    @classmethod
    def on(cls, request: ApprovalRequest, *, approved: bool, reviewer: str, comment: str | None = None
           ) -> ApprovalDecision:
        """A person's decision on `request`, naming it as its evidence."""
        return cls(approved=approved, reviewer=reviewer, comment=comment, review_id=request.review_id,
                   node_id=request.node_id, source_sha256=request.source_sha256)


class DecisionRecord(BaseModel):
    """A decision with the request it was made on: a line of a run's decisions file, and what a run resumes with."""

    model_config = ConfigDict(frozen=True)

    request: ApprovalRequest
    decision: ApprovalDecision


class EvidenceMismatch(ValueError):
    """A decision, or the kernel it would write, that is not exactly what the reviewer was shown; nothing was
    written."""


@dataclass(frozen=True)
class ApprovedKernel:
    """What an approval writes to the library: a node, its verified evaluation, and the source that hashes to it."""

    node: SearchNode
    result: EvalResult
    source: str


def check_decision(request: ApprovalRequest, decision: ApprovalDecision) -> None:
    """Raises EvidenceMismatch unless `decision` names exactly `request` (its id, node and source hash)."""
    named = {"review id": (decision.review_id, request.review_id), "node": (decision.node_id, request.node_id),
             "source sha256": (decision.source_sha256, request.source_sha256)}
    differences = [f"{what} {given!r} where {waiting!r} waits" for what, (given, waiting) in named.items()
                   if given != waiting]
    if differences:
        raise EvidenceMismatch(f"the decision is not on the kernel that waits ({'; '.join(differences)}): "
                               "look at it again and decide again; nothing was written")


def approved_kernel(run: RunDirectory, search: DeviceSearch | None, record: DecisionRecord) -> ApprovedKernel:
    """The kernel an approval writes: the node the request names, with the request's source, once the
    decision, the search tree and the harness's verified hash agree on it and its names are safe; raises
    EvidenceMismatch or UnsafeName."""
    request = record.request
    check_decision(request, record.decision)
    node = search.nodes.get(request.node_id) if search is not None and search.device == request.device else None
    if request.run_id != run.run_id or node is None:
        raise EvidenceMismatch(f"{request.review_id} is not a kernel of run {run.run_id}'s search on "
                               f"{request.device!r}; nothing was written")
    if not node.accepted or node.evaluation_file is None:
        raise EvidenceMismatch(f"{request.review_id} was not accepted by the harness; nothing was written")
    result = run.read_evaluation(node.evaluation_file)
    kernel_file(result, node.id)  # raises UnsafeName for a name that could not name a library file
    if result.candidate_sha256 != request.source_sha256:
        raise EvidenceMismatch(
            f"the source shown for {request.review_id} (sha256 {request.source_sha256}) is not the one the harness "
            f"verified ({node.evaluation_file} says {result.candidate_sha256}); nothing was written")
    return ApprovedKernel(node=node, result=result, source=request.source)


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
        math=result.math,
        written_by=node.written_by.describe() if node.written_by is not None else None,
    )
