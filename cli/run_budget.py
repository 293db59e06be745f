"""A run's budget on `--resume`, and its wall budget carried into model calls so that none outlasts it.

The wall budget counts the time spent in rounds (`elapsed_s` in the run's state). Model calls and
probes are bounded by what is left of it when the run (re)starts; a call it ends stops every device
with `wall_time`, as the round's end would have, and the run goes on to its approval and summary.
"""

from __future__ import annotations

from kevolve.graph.configuration import Budget
from kevolve.graph.runner import OptimizationRun
from kevolve.graph.search_tree import StopReason
from kevolve.tools.llm.base import LLMProvider

from .budget_option import parse_budget
from .options import UsageError


def resumed_with_budget(optimization: OptimizationRun, text: str) -> Budget:
    """Gives the resumed run the budget keys `text` names, the others staying the run's; returns the budget.

    A finished run is refused: its devices stopped and its kernel went to approval, so a larger
    budget would not make it search again.
    """
    run_id = optimization.run.run_id
    if not optimization.started:
        raise UsageError(f"run {run_id} never started a round: start a new run with the budget you want")
    if optimization.finished() and not optimization.pending():
        raise UsageError(f"run {run_id} has finished: a new --budget cannot extend it; start a new run")
    task = optimization.state()["task"]
    budget = parse_budget(text, default=task.search.budget)
    searched = task.model_copy(update={"search": task.search.model_copy(update={"budget": budget})})
    # Written as the node that wrote last, so the run goes on to the step it was at.
    optimization.graph.update_state(optimization.run.thread_config(), {"task": searched})
    return budget


def bound_model_time(optimization: OptimizationRun, llm: LLMProvider | None) -> None:
    """Ends the run's model calls when what is left of its wall budget has passed."""
    if llm is None:
        return
    state = optimization.state() if optimization.started else {}
    budget = state["task"].search.budget if state else optimization.run.task().search.budget
    if budget.wall_seconds is not None:
        llm.limit_wall_time(max(0.0, budget.wall_seconds - state.get("elapsed_s", 0.0)))


def stop_for_wall_time(optimization: OptimizationRun) -> None:
    """Every device still searching stops with `wall_time`; the round a model call was cut in is dropped."""
    state = optimization.state()
    stopped = {device: search if not search.active else search.model_copy(update={"stop": StopReason.WALL_TIME})
               for device, search in state["searches"].items()}
    optimization.graph.update_state(optimization.run.thread_config(), {"searches": stopped, "round_nodes": []},
                                    as_node="select_or_stop")
