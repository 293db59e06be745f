"""Node: the profiler-analyst diagnoses each evaluated candidate for the next plan."""

from __future__ import annotations

import time

from langgraph.runtime import Runtime

from kevolve.agents.analyst import AnalysisRequest, ProfileFacts, analyze_candidate
from kevolve.eval_harness.profile_summary import render_profile_summary
from kevolve.tools.candidates import Role, SearchNode
from kevolve.tools.llm.base import TokenUsage

from ..context import RunContext
from ..state import OptimizeState
from .common import fan_out, llm_for, report, task_view


def analyze_results(state: OptimizeState, runtime: Runtime[RunContext]) -> dict:
    started = time.monotonic()
    context = runtime.context

    def analyze(node: SearchNode) -> tuple[SearchNode, TokenUsage]:
        if node.evaluation_file is None:  # refused before evaluation: nothing was measured
            return node, TokenUsage()
        search = state["searches"][node.device]
        parent = search.nodes.get(node.plan.parent_ids[0]) if node.plan.parent_ids else None
        result = context.run.read_evaluation(node.evaluation_file)
        request = AnalysisRequest(
            task=task_view(state, context, node.device),
            node=node,
            parent=parent,
            profile_summary=render_profile_summary(result),
            facts=ProfileFacts.from_result(result),
        )
        diagnosis, usage = analyze_candidate(request, llm_for(context, Role.ANALYST))
        report("analyst", node.device, f"{node.id}: {diagnosis.bottleneck}")
        return node.model_copy(update={"diagnosis": diagnosis}), usage

    results = fan_out(analyze, state["round_nodes"], workers=state["task"].search.llm_concurrency)
    return {
        "round_nodes": [node for node, _ in results],
        "usage": sum((usage for _, usage in results), TokenUsage()),
        "elapsed_s": time.monotonic() - started,
    }
