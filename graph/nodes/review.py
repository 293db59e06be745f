"""Node: the reviewer reads each candidate before any device time is spent on it."""

from __future__ import annotations

import time

from langgraph.runtime import Runtime

from kevolve.agents.reviewer import ReviewRequest, review_candidate
from kevolve.eval_harness.results import EvalStatus
from kevolve.tools.candidates import Outcome, Role, SearchNode
from kevolve.tools.llm.base import TokenUsage

from ..context import RunContext
from ..state import OptimizeState
from .common import fan_out, llm_for, report, task_view

# Not one of the harness's error kinds: the harness never saw the candidate.
REVIEW_REFUSED = "review_refused"


def review_candidates(state: OptimizeState, runtime: Runtime[RunContext]) -> dict:
    started = time.monotonic()
    context = runtime.context

    def review(node: SearchNode) -> tuple[SearchNode, TokenUsage]:
        request = ReviewRequest(
            task=task_view(state, context, node.device),
            source=context.run.read_text(node.source_file),
            plan=node.plan,
        )
        verdict, usage = review_candidate(request, llm_for(context, Role.REVIEWER))
        update: dict = {"review": verdict}
        if not verdict.approved:
            report("reviewer", node.device, f"{node.id}: refused: {'; '.join(verdict.reasons)}")
            # A refusal is recorded as a failed outcome so the planner can repair it like any other failure.
            update["outcome"] = Outcome(
                status=EvalStatus.ERROR, accepted=False, fitness=0.0,
                error_kind=REVIEW_REFUSED, error_message="\n".join(verdict.reasons),
            )
        else:
            report("reviewer", node.device, f"{node.id}: approved for evaluation")
        return node.model_copy(update=update), usage

    results = fan_out(review, state["round_nodes"], workers=state["task"].search.llm_concurrency)
    return {
        "round_nodes": [node for node, _ in results],
        "usage": sum((usage for _, usage in results), TokenUsage()),
        "elapsed_s": time.monotonic() - started,
    }
