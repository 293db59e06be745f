"""Node: merge the round into each device's tree, remember what failed and what was learned, stop or go on."""

from __future__ import annotations

import logging
import time

from langgraph.runtime import Runtime

from kevolve.hardware_specs.spec import load_spec
from kevolve.tools.candidates import SearchNode
from kevolve.tools.learning import learned_entry, operator_signature, record_learning

from ..context import RunContext
from ..search_tree import DeviceSearch, StopReason
from ..state import OptimizeState
from ..termination import record_failed_strategies, record_round, stop_reason
from .common import problem_of, report, task_view

logger = logging.getLogger(__name__)


def select_or_stop(state: OptimizeState, runtime: Runtime[RunContext]) -> dict:
    started = time.monotonic()
    context = runtime.context
    task = state["task"]
    settings = task.search
    usage = state["usage"]
    searches = dict(state["searches"])
    for device, search in searches.items():
        if not search.active:
            continue
        round_nodes = [node for node in state["round_nodes"] if node.device == device]
        grown = search.model_copy(update={"nodes": {**search.nodes, **{node.id: node for node in round_nodes}}})
        grown = record_round(record_failed_strategies(grown, settings), settings)
        _learn(state, context, grown, round_nodes)
        reason = (
            StopReason.STOPPED_BY_USER if context.services.stop_requested.is_set()
            else stop_reason(grown, settings, elapsed_s=state["elapsed_s"], tokens_used=usage.total_tokens,
                             cost_usd=usage.cost_usd)
        )
        best = grown.best
        report("search", device, f"round {grown.rounds}: best {_describe(best)}"
               + (f"; stopping ({reason.value})" if reason else ""))
        searches[device] = grown.model_copy(update={"stop": reason})
    return {"searches": searches, "round_nodes": [], "elapsed_s": time.monotonic() - started}


def _describe(best: SearchNode | None) -> str:
    if best is None:
        return "none accepted yet"
    fitness = best.outcome.fitness
    return f"{best.id}" + (f" at {fitness:.3g}x" if fitness is not None else " (correct; timing not meaningful here)")


def _learn(state: OptimizeState, context: RunContext, search: DeviceSearch, round_nodes: list[SearchNode]) -> None:
    """Each round's wins and failures go into the knowledge base, so later searches can find them."""
    knowledge = context.services.knowledge
    if knowledge is None or not round_nodes:
        return
    view = task_view(state, context, search.device)
    spec = load_spec(view.hardware_spec) if view.hardware_spec else None
    signature = operator_signature(problem_of(state), dtype=view.dtype, on_cpu=search.device == "cpu")
    entries = []
    for node in round_nodes:
        parent = search.nodes.get(node.plan.parent_ids[0]) if node.plan.parent_ids else None
        entry = learned_entry(
            node, task=view, parent=parent, signature=signature,
            spec_vendor=spec.vendor.value if spec else "unknown",
            spec_architecture=spec.architecture if spec else "unknown",
            kernel_file=context.run.path / node.source_file,
        )
        if entry is not None:
            entries.append(entry)
    record_learning(knowledge, entries)
