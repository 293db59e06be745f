"""The records every role reasons over: the task, a plan, a candidate's outcome, a diagnosis.

They live in `tools/`, the lowest layer that needs them, because data flows graph -> agents ->
tools: the graph owns the search tree of `SearchNode`s, the agents are shown it, and the tools (the
LLM layer's roles, learning from outcomes) read the same records.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.precision import MathMode, Precision, resolve
from kevolve.eval_harness.results import EvalResult, EvalStatus

# An error message is shown to the planner and the coder; a traceback longer than this says nothing more.
MAX_ERROR_CHARS = 4000


def normalize_strategy(strategy: str) -> str:
    """Lowercase with runs of whitespace collapsed, so the same idea reworded by case or spacing is one entry."""
    return re.sub(r"\s+", " ", strategy).strip().lower()


class Operator(StrEnum):
    """How the next candidate is made from the tree."""

    DRAFT = "draft"  # from the reference alone
    REPAIR = "repair"  # from a parent that failed to compile or to be correct, with its error
    IMPROVE = "improve"  # from an accepted parent and the analyst's diagnosis of it
    CROSSOVER = "crossover"  # combining the ideas of two accepted parents
    EXPLORE = "explore"  # a strategy not tried yet on this task and device


class KernelLanguage(StrEnum):
    TRITON = "triton"
    CUDA = "cuda"


class Role(StrEnum):
    PLANNER = "planner"
    CODER = "coder"
    REVIEWER = "reviewer"
    ANALYST = "analyst"
    CHAT = "chat"


class TaskView(BaseModel):
    """What every role is told about the task on one device."""

    model_config = ConfigDict(frozen=True)

    problem: str
    reference_source: str
    device: str = Field(description="torch device string, e.g. cuda:0")
    device_name: str | None = Field(default=None, description="e.g. NVIDIA H100 80GB HBM3")
    hardware_spec: str | None = Field(default=None, description="hardware spec name, e.g. h100_sxm")
    policy: str = Field(description="strict or hybrid")
    dtype: str
    math: MathMode = Field(default_factory=lambda: resolve(Precision.EXACT),
                           description="the precision regime candidates are judged in; none may compute below it")
    speed_of_light: str | None = Field(default=None, description="the roofline figures, as text")


class Plan(BaseModel):
    """The planner's decision for one candidate."""

    model_config = ConfigDict(frozen=True)

    operator: Operator = Field(description="draft, repair, improve, crossover or explore")
    parent_ids: list[str] = Field(default_factory=list, description="the node ids the candidate starts from")
    strategy: str = Field(description="the idea in a few words, e.g. 'one fused kernel, one row per program'")
    description: str = Field(description="what the coder should do, concretely")
    expected_gain: float = Field(
        default=1.0, description="expected speedup over the parent (1.2 = 20% faster); 1.0 for a draft or repair"
    )
    language: KernelLanguage = Field(default=KernelLanguage.TRITON, description="triton or cuda")


class Outcome(BaseModel):
    """The harness's verdict on a candidate, reduced to what the agents and the search use."""

    model_config = ConfigDict(frozen=True)

    status: EvalStatus
    accepted: bool
    fitness: float | None = Field(description="0 unless accepted; None when timings are not meaningful (CPU)")
    error_kind: str | None = None
    error_message: str | None = None
    speedup_eager: float | None = None
    speedup_compiled: float | None = None
    median_ms: float | None = None
    percent_of_light: float | None = None
    beats_baselines: bool | None = Field(
        default=None, description="faster than every baseline at the harness's confidence level; None unmeasured"
    )
    worst_abs_error: float | None = None
    flags: list[str] = Field(default_factory=list)
    review_required: list[str] = Field(default_factory=list)
    refusals: list[str] = Field(default_factory=list, description="error-level check findings, as 'rule: reason'")

    @classmethod
    def from_result(cls, result: EvalResult) -> Outcome:
        error = result.error
        message = None
        if error is not None:
            message = error.message if not error.output_tail else f"{error.message}\n{error.output_tail}"
            message = message[-MAX_ERROR_CHARS:]
        return cls(
            status=result.status,
            accepted=result.accepted,
            fitness=result.fitness,
            error_kind=error.kind.value if error is not None else None,
            error_message=message,
            speedup_eager=result.speedup_over("eager"),
            speedup_compiled=result.speedup_over("compiled"),
            median_ms=result.timing.median_ms if result.timing is not None else None,
            percent_of_light=result.percent_of_light,
            beats_baselines=all(c.verdict == "faster" for c in result.comparisons) if result.comparisons else None,
            worst_abs_error=result.correctness.worst_abs_error if result.correctness is not None else None,
            flags=list(result.flags),
            review_required=list(result.review_required),
            refusals=[f"{f.rule}: {f.reason}" for f in result.findings if f.severity.value == "error"],
        )

    @property
    def failed(self) -> bool:
        """Did not compile, crashed, or gave wrong results: the case the repair operator exists for."""
        return self.status is not EvalStatus.CORRECT


class ReviewVerdict(BaseModel):
    """The reviewer's decision before any device time is spent."""

    model_config = ConfigDict(frozen=True)

    approved: bool = Field(description="true when the candidate may be evaluated")
    reasons: list[str] = Field(default_factory=list, description="why it was refused, one reason per entry")


class Diagnosis(BaseModel):
    """The profiler-analyst's reading of one evaluated candidate."""

    model_config = ConfigDict(frozen=True)

    bottleneck: str = Field(description="what limits the candidate: memory bandwidth, launch overhead, ...")
    headroom: str = Field(description="how far from the speed-of-light floor, and what that allows")
    guidance: str = Field(description="what the next plan should try, concretely")
    knowledge_query: str = Field(description="a search query for the knowledge base about this bottleneck")
    expectation_met: bool | None = Field(
        default=None, description="whether the plan's expected gain came true; None when it cannot be known"
    )


class Origin(StrEnum):
    """Who wrote a candidate's source."""

    ENGINE = "offline engine"  # generated from the traced reference (tools/offline)
    SEED = "hand-written seed"  # a file from --seeds
    MODEL = "model"  # the coder role's model


class CandidateOrigin(BaseModel):
    """Who wrote a candidate, and for a model's, the call whose reply it is."""

    model_config = ConfigDict(frozen=True)

    origin: Origin
    model_call: str | None = Field(default=None, description="for the model: its name and which of the "
                                   "coder's replies for the plan held the source")

    def describe(self) -> str:
        return f"{self.origin.value} ({self.model_call})" if self.model_call else self.origin.value


class SearchNode(BaseModel):
    """One candidate in a device's search tree. Its source lives in the run directory, by `source_file`."""

    model_config = ConfigDict(frozen=True)

    id: str
    device: str
    round: int
    plan: Plan
    source_file: str | None = Field(default=None, description="path relative to the run directory")
    source_sha256: str | None = None
    coder_notes: str | None = None
    written_by: CandidateOrigin | None = Field(default=None, description="None in runs made before it was kept")
    label: str | None = Field(default=None, description="what the source does, read from it (tools/source_label.py); "
                              "the plan says what was asked. None in runs made before it was kept")
    review: ReviewVerdict | None = None
    outcome: Outcome | None = None
    evaluation_file: str | None = Field(default=None, description="the full EvalResult, relative to the run directory")
    diagnosis: Diagnosis | None = None

    @property
    def fitness(self) -> float:
        """For ranking: 0 unless accepted; an accepted candidate without a meaningful timing ranks as 1."""
        if self.outcome is None or not self.outcome.accepted:
            return 0.0
        return self.outcome.fitness if self.outcome.fitness is not None else 1.0

    @property
    def accepted(self) -> bool:
        return self.outcome is not None and self.outcome.accepted
