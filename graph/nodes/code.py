"""Node: the coder writes each planned candidate; its source goes to the run directory."""

from __future__ import annotations

import time
from collections import Counter

from langgraph.runtime import Runtime

from kevolve.agents.coder import CodingRequest, ReplyDefect, write_candidate
from kevolve.eval_harness.problem import sha256_text
from kevolve.tools.candidates import Role, SearchNode
from kevolve.tools.llm.base import MalformedReply, TokenUsage
from kevolve.tools.source_label import describe_source

from ..context import RunContext
from ..search_tree import StopReason
from ..state import OptimizeState
from .common import fan_out, llm_for, report, retrieve, task_view


def write_candidates(state: OptimizeState, runtime: Runtime[RunContext]) -> dict:
    started = time.monotonic()
    context = runtime.context
    run = context.run

    def write(node: SearchNode) -> tuple[SearchNode | None, TokenUsage, list[ReplyDefect]]:
        search = state["searches"][node.device]
        parents = [search.nodes[parent] for parent in node.plan.parent_ids]
        view = task_view(state, context, node.device)
        failing = next((parent for parent in parents if parent.outcome is not None and parent.outcome.failed), None)
        diagnosed = next((parent for parent in parents if parent.diagnosis is not None), None)
        request = CodingRequest(
            task=view,
            plan=node.plan,
            parent_sources=[run.read_text(parent.source_file) for parent in parents if parent.source_file],
            error=_error_text(failing) if failing is not None else None,
            diagnosis=diagnosed.diagnosis if diagnosed is not None else None,
            knowledge=retrieve(context, f"{node.plan.strategy}. {node.plan.description}", view),
            guidance=search.guidance,
            known_sources={n.source_sha256 for n in search.nodes.values() if n.source_sha256},
        )
        report("coder", node.device, f"{node.id}: writing ({node.plan.operator.value})")
        try:
            result, usage = write_candidate(request, llm_for(context, Role.CODER), context.services.seeds,
                                            context.services.offline)
        except MalformedReply as error:
            report("coder", node.device, f"{node.id}: no usable reply ({error})")
            return None, error.usage, []
        draft = result.draft
        if draft is None:
            replies = f" (replies: {', '.join(result.defects)})" if result.defects else ""
            report("coder", node.device, f"{node.id}: no candidate written{replies}")
            return None, usage, result.defects
        written = node.model_copy(update={
            "source_file": run.write_source(node.id, draft.source),
            "source_sha256": sha256_text(draft.source),
            "coder_notes": draft.notes,
            "written_by": draft.written_by,
            "label": describe_source(draft.source),
        })
        return written, usage, result.defects

    results = fan_out(write, state["round_nodes"], workers=state["task"].search.llm_concurrency)
    written = [node for node, _, _ in results if node is not None]
    searches = dict(state["searches"])
    # Offline, no candidate means the seeds ran out. A model that wrote nothing usable this round may
    # next round: the round counts as one without gain, and patience or the budget ends the search.
    if llm_for(context, Role.CODER) is None:
        for device in {node.device for node in state["round_nodes"]} - {node.device for node in written}:
            searches[device] = searches[device].model_copy(update={"stop": StopReason.NO_PROPOSALS})
    return {
        "round_nodes": written,
        "searches": searches,
        "usage": sum((usage for _, usage, _ in results), TokenUsage()),
        "reply_defects": dict(Counter(defect.value for _, _, defects in results for defect in defects)),
        "elapsed_s": time.monotonic() - started,
    }


def _error_text(node: SearchNode) -> str:
    outcome = node.outcome
    parts = [f"{outcome.status.value}: {outcome.error_kind or ''}", outcome.error_message or ""]
    parts += [f"refused: {reason}" for reason in outcome.refusals]
    if outcome.worst_abs_error is not None:
        parts.append(f"worst absolute error {outcome.worst_abs_error:.3g}")
    return "\n".join(part for part in parts if part.strip())
