"""Node: the harness judges every reviewed candidate; devices in parallel, one at a time on each."""

from __future__ import annotations

import time
from collections import defaultdict

from langgraph.runtime import Runtime

from kevolve.tools.candidates import Outcome, SearchNode

from ..context import RunContext
from ..state import OptimizeState
from .common import fan_out, problem_of, report, task_view


def evaluate_candidates(state: OptimizeState, runtime: Runtime[RunContext]) -> dict:
    started = time.monotonic()
    context = runtime.context
    problem = problem_of(state)
    by_device: dict[str, list[SearchNode]] = defaultdict(list)
    for node in state["round_nodes"]:
        by_device[node.device].append(node)

    def evaluate_device(nodes: list[SearchNode]) -> list[SearchNode]:
        # One after another on a device: two timings on one device at once would disturb each other.
        evaluated = []
        for node in nodes:
            if node.outcome is not None:  # refused by the reviewer: no device time
                evaluated.append(node)
                continue
            report("evaluator", node.device, f"{node.id}: compiling, checking, timing")
            source = context.run.read_text(node.source_file)
            result = context.services.pool.evaluate(problem, node.device, source, name=node.id)
            outcome = Outcome.from_result(result)
            cached = " (cached: judged by an earlier evaluation)" if result.from_cache else ""
            report("evaluator", node.device, f"{node.id}: {_verdict(outcome)}{cached}")
            _calibrate(state, context, node, source, outcome)
            evaluated.append(node.model_copy(update={
                "outcome": outcome,
                "evaluation_file": context.run.write_evaluation(node.id, result),
            }))
        return evaluated

    results = fan_out(evaluate_device, by_device.values(), workers=len(by_device))
    return {
        "round_nodes": [node for nodes in results for node in nodes],
        "elapsed_s": time.monotonic() - started,
    }


def _calibrate(state: OptimizeState, context: RunContext, node: SearchNode, source: str, outcome: Outcome) -> None:
    """A meaningful timing goes to the offline engine's cost model (which ignores sources it did not write)."""
    engine = context.services.offline
    if engine is None or outcome.fitness is None or outcome.median_ms is None:
        return
    view = task_view(state, context, node.device)
    engine.observe(view.reference_source, view.policy, source, outcome.median_ms, view.math, view.hardware_spec)
    agreement = engine.model_agreement()
    if agreement is not None:
        report("evaluator", node.device, f"cost model: its first schedule measured fastest in {agreement:.0%} of "
               "the designs with two or more schedules timed")


def _verdict(outcome: Outcome) -> str:
    if outcome.failed:
        return f"{outcome.status.value} ({outcome.error_kind})"
    if not outcome.accepted:
        return "correct, held: " + "; ".join(outcome.review_required + outcome.refusals)
    if outcome.fitness is None:
        return "correct (no meaningful timing on this device)"
    return f"correct, {outcome.fitness:.3g}x over the faster baseline"
