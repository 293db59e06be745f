"""The profiler-analyst: names what limits an evaluated candidate and what the next plan should try.

Whether the plan's expected gain came true is computed from the measured fitness figures, never
taken from a model: it is a fact about two numbers, and the search trusts it to judge strategies.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.results import ErrorKind, EvalResult
from kevolve.tools.candidates import Diagnosis, Outcome, SearchNode, TaskView
from kevolve.tools.llm.base import MalformedReply, RoleLLM, TokenUsage

from .prompt_budget import budget_for, fit_messages
from .prompt_cuts import middle_lines, reference_source
from .prose import debris_fields
from .strategies import operator_keywords

logger = logging.getLogger(__name__)

# Timing noise: a candidate 2% short of its promise still delivered it.
_EXPECTATION_SLACK = 0.98
# Above this share of the speed-of-light floor, what is left rarely repays a rewrite.
_NEAR_FLOOR_PERCENT = 80.0
_KEYWORDS_IN_QUERY = 3
# Each launch costs a few microseconds and a round trip of intermediates through memory; from this
# many per call, fusing them is the first thing to try whatever the roofline says.
_MANY_LAUNCHES = 4

_FIXES: dict[str, str] = {
    ErrorKind.SYNTAX_ERROR: "fix the Python syntax error at the reported line",
    ErrorKind.IMPORT_ERROR: "the module raised while loading: fix the failing import or module-level statement",
    ErrorKind.MISSING_MODEL_NEW: "define class ModelNew(nn.Module) at module level",
    ErrorKind.CONSTRUCTION_ERROR: "ModelNew's constructor must take exactly the reference Model's arguments",
    ErrorKind.KERNEL_COMPILE_ERROR: "Triton refused the kernel: block sizes must be tl.constexpr powers of two, "
                                    "shapes static, and only triton.language operations inside @triton.jit",
    ErrorKind.RUNTIME_ERROR: "forward raised: check the launch arguments, grid, dtypes and pointer arithmetic",
    ErrorKind.DEVICE_OUT_OF_MEMORY: "allocate less: no full-size intermediates, reuse outputs, tile the work",
    ErrorKind.TIMEOUT: "the kernel hangs or is far too slow: check loop bounds and the grid size",
    ErrorKind.WORKER_CRASHED: "an illegal memory access: mask every load and store, use int64 offsets",
    ErrorKind.OUTPUT_STRUCTURE: "return the reference's outputs with the same count, shapes, dtype and device",
    ErrorKind.NON_FINITE_OUTPUT: "NaN or inf: use numerically stable forms (subtract the max before exp), "
                                 "and write every output element",
    ErrorKind.OUTPUT_MISMATCH: "wrong values: check indexing, strides, masks, the reduction axis and fp32 accumulation",
    ErrorKind.INPUT_MUTATED: "write results into fresh outputs, never into the inputs",
    ErrorKind.NONDETERMINISTIC: "some output elements are never written or races remain: cover the whole output",
    ErrorKind.SHAPE_SPECIALISED: "derive every size, stride and grid from the inputs at run time",
    ErrorKind.POLICY_VIOLATION: "move the refused PyTorch compute into the candidate's own kernels",
    ErrorKind.KERNEL_NOT_LAUNCHED: "launch the custom kernel from forward on every call",
    ErrorKind.KERNELS_NOT_LOAD_BEARING: "the kernels must compute the result, not decorate a PyTorch computation",
    ErrorKind.REFERENCE_OPS_RAN: "PyTorch operators ran during forward: compute them in the kernels instead",
    ErrorKind.STALE_RESULT: "compute from the inputs of every call; cache nothing derived from inputs",
}


def _with_error(node: SearchNode, text: str) -> SearchNode:
    return node.model_copy(update={"outcome": node.outcome.model_copy(update={"error_message": text})})


# The harness's long rendering first, then the candidate's error, the reference last; each loses its
# middle only (a traceback's cause is at its end, a profile's verdict at its start).
ANALYST_CUTS = (
    middle_lines("profile summary", "profile_summary"),
    middle_lines("error", "node", get=lambda node: node.outcome.error_message if node.outcome else None,
                 put=_with_error),
    reference_source(),
)


class ProfileFacts(BaseModel):
    """The figures the offline reading decides by, taken from the result itself rather than its text."""

    model_config = ConfigDict(frozen=True)

    bound: str | None = Field(default=None, description="memory or compute, from the roofline")
    launches_per_call: float | None = None
    launch_bound: bool | None = None

    @classmethod
    def from_result(cls, result: EvalResult) -> ProfileFacts:
        sol, profile = result.speed_of_light, result.profile
        return cls(
            bound=sol.bound if sol is not None else None,
            launches_per_call=profile.launches_per_call if profile is not None else None,
            launch_bound=profile.launch_bound if profile is not None else None,
        )

    @property
    def many_launches(self) -> bool:
        return bool(self.launch_bound) or (self.launches_per_call or 0) >= _MANY_LAUNCHES


class AnalysisRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    task: TaskView
    node: SearchNode
    parent: SearchNode | None = None
    profile_summary: str = Field(description="the harness's rendering, for the model's prompt")
    facts: ProfileFacts = ProfileFacts()


def expectation_met(node: SearchNode, parent: SearchNode | None) -> bool | None:
    """The speedup over the parent against the plan's promise; None unless both fitnesses were measured."""
    mine = node.outcome.fitness if node.outcome is not None else None
    theirs = parent.outcome.fitness if parent is not None and parent.outcome is not None else None
    if mine is None or not theirs:
        return None
    return mine / theirs >= node.plan.expected_gain * _EXPECTATION_SLACK


def _accepted_reading(outcome: Outcome, facts: ProfileFacts) -> tuple[str, str, str]:
    """(bottleneck, headroom, guidance) of an accepted candidate."""
    percent = outcome.percent_of_light
    bound = facts.bound
    headroom = f"{percent:.0f}% of speed of light" if percent is not None else "speed of light unknown"
    if facts.many_launches:
        return ("launch overhead", headroom + "; many kernels per call, with the device idle between them",
                "fuse the kernels into as few launches as possible; keep intermediates on chip")
    if percent is not None and percent >= _NEAR_FLOOR_PERCENT:
        return (f"{bound or 'roofline'} floor", headroom + ": little headroom left",
                "only small gains remain: tune block sizes and warps, or stop here")
    if bound == "compute":
        return ("compute throughput", headroom + ": the arithmetic is not yet at the peak rate",
                "use tensor cores through tl.dot with larger tiles, pipeline loads with num_stages, autotune")
    if bound == "memory":
        return ("memory bandwidth", headroom + ": bytes move slower than the bandwidth allows",
                "read each input once and write each output once: fuse passes, coalesce and widen accesses, "
                "more work per program")
    return ("not measured on this device", headroom + ": timings here (e.g. Triton's CPU interpreter) say nothing "
            "about speed", "keep it correct and simple; measure it on a GPU before tuning")


def _offline(request: AnalysisRequest, outcome: Outcome) -> tuple[str, str, str]:
    if outcome.failed:
        kind = outcome.error_kind or "unknown error"
        fix = _FIXES.get(kind, "read the error and fix its cause")
        first_line = (outcome.error_message or "").strip().splitlines()[:1]
        return f"correctness: {kind}", "none until it is correct", fix + (f" ({first_line[0]})" if first_line else "")
    if not outcome.accepted:
        held = outcome.refusals or outcome.review_required or ["not accepted"]
        return "policy: " + "; ".join(held), "none until it is accepted", "remove what the checks refused"
    return _accepted_reading(outcome, request.facts)


def knowledge_query(bottleneck: str, task: TaskView) -> str:
    words = [bottleneck, *operator_keywords(task.reference_source)[:_KEYWORDS_IN_QUERY]]
    words.append(task.hardware_spec or task.device_name or "GPU")
    return " ".join(words)


def analyze_candidate(request: AnalysisRequest, llm: RoleLLM | None) -> tuple[Diagnosis, TokenUsage]:
    outcome = request.node.outcome
    if outcome is None:
        raise ValueError(f"node {request.node.id} has no outcome to analyse")
    met = expectation_met(request.node, request.parent)
    spent = TokenUsage()
    if llm is not None:
        variables = dict(task=request.task, node=request.node, parent=request.parent,
                         profile_summary=request.profile_summary)
        prompt, _ = fit_messages("analyst", variables, ANALYST_CUTS, budget_for(llm))
        try:
            diagnosis, usage = llm.structured(Diagnosis, prompt)
        except MalformedReply as exc:
            # The offline reading comes from the same numbers; the next plan still gets a diagnosis.
            logger.warning("analyst: malformed reply, diagnosing offline instead: %s", exc)
            spent = exc.usage
        else:
            debris = debris_fields(dict(bottleneck=diagnosis.bottleneck, guidance=diagnosis.guidance))
            if not debris:
                return diagnosis.model_copy(update={"expectation_met": met}), usage
            logger.warning("analyst: the reply's %s is not words (%r), diagnosing offline instead",
                           " and ".join(debris), getattr(diagnosis, debris[0]))
            spent = usage
    bottleneck, headroom, guidance = _offline(request, outcome)
    return Diagnosis(bottleneck=bottleneck, headroom=headroom, guidance=guidance,
                     knowledge_query=knowledge_query(bottleneck, request.task), expectation_met=met), spent
