"""Node: for each active device, choose parents and let the planner decide the next candidates."""

from __future__ import annotations

import random
import time

from langgraph.runtime import Runtime

from kevolve.agents.planner import PlanningRequest, plan_candidates
from kevolve.tools.candidates import Role, SearchNode, TaskView
from kevolve.tools.llm.base import TokenUsage

from ..context import RunContext
from ..run_directory import device_slug
from ..search_tree import DeviceSearch, StopReason
from ..selection import repair_candidates, select_parents
from ..state import OptimizeState, active_devices
from .common import fan_out, llm_for, report, retrieve, task_view


def _knowledge_query(search: DeviceSearch, problem: str, spec: str | None) -> str:
    """The latest diagnosis's query, or a first one from the task when nothing was diagnosed yet."""
    diagnosed = [node for node in search.nodes.values() if node.diagnosis is not None]
    if diagnosed:
        return max(diagnosed, key=lambda node: node.round).diagnosis.knowledge_query
    return f"fast Triton kernel for {problem.replace('_', ' ')} on {spec or 'this GPU'}"


def _design(context: RunContext, view: TaskView, first_round: bool) -> str | None:
    """The engine's fusion plan for the planner; on the first round, what it can and cannot write is said."""
    engine = context.services.offline
    if engine is None:
        return None
    design = engine.design(view.reference_source, view.policy, view.math, view.hardware_spec)
    if first_round:
        report("planner", view.device, design.describe())
    return design.describe() if design.supported else None


def plan_round(state: OptimizeState, runtime: Runtime[RunContext]) -> dict:
    started = time.monotonic()
    context = runtime.context
    settings = state["task"].search

    def plan_device(device: str) -> tuple[str, list[SearchNode], TokenUsage]:
        search = state["searches"][device]
        view = task_view(state, context, device)
        round_number = search.rounds + 1
        rng = random.Random(f"{settings.seed}/{device}/{round_number}")
        request = PlanningRequest(
            task=view,
            nodes=list(search.nodes.values()),
            parents=select_parents(search, settings, count=max(2, settings.candidates_per_round), rng=rng),
            repairable=repair_candidates(search, settings.max_repairs),
            failed_strategies=search.failed_strategies,
            guidance=search.guidance,
            knowledge=retrieve(context, _knowledge_query(search, view.problem, view.hardware_spec), view),
            count=settings.candidates_per_round,
            design=_design(context, view, first_round=not search.nodes),
        )
        report("planner", device, f"round {round_number}: planning from {len(search.nodes)} candidates")
        plans, usage = plan_candidates(request, llm_for(context, Role.PLANNER))
        nodes = [
            SearchNode(id=f"{device_slug(device)}-r{round_number:02d}-{index}", device=device,
                       round=round_number, plan=plan)
            for index, plan in enumerate(plans)
        ]
        for node in nodes:
            report("planner", device, f"{node.id}: {node.plan.operator.value} - {node.plan.strategy}")
        return device, nodes, usage

    results = fan_out(plan_device, active_devices(state), workers=settings.llm_concurrency)
    searches = dict(state["searches"])
    for device, nodes, _ in results:
        if not nodes:
            report("planner", device, "nothing left to try")
            searches[device] = searches[device].model_copy(update={"stop": StopReason.NO_PROPOSALS})
    return {
        "round_nodes": [node for _, nodes, _ in results for node in nodes],
        "searches": searches,
        "usage": sum((usage for _, _, usage in results), TokenUsage()),
        "elapsed_s": time.monotonic() - started,
    }
