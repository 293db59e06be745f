"""Driving one problem's run a round at a time, so the campaign decides between rounds where its budget goes.

The run's graph is streamed with a static interrupt before `plan_round`: each call runs from wherever the
run's checkpoints left it (a round killed half-way resumes at the node it was in) to the start of the
next round, or on to the end or to a person's approval. The campaign stops a search by writing a stop
reason into the run's state as if `select_or_stop` had decided it; the run then goes to approval as a
run that stopped on its own does.
"""

from __future__ import annotations

from enum import StrEnum

from ..runner import OnEvent, OptimizationRun
from ..search_tree import StopReason
from ..state import initial_state

ROUND_START = "plan_round"


class RunPhase(StrEnum):
    BETWEEN_ROUNDS = "between_rounds"  # devices still search: the campaign may grant another round
    WAITING = "waiting"  # a kernel waits for a person
    FINISHED = "finished"


def phase(optimization: OptimizationRun) -> RunPhase:
    if optimization.pending():
        return RunPhase.WAITING
    if optimization.finished():
        return RunPhase.FINISHED
    return RunPhase.BETWEEN_ROUNDS


def advance(optimization: OptimizationRun, on_event: OnEvent | None = None) -> RunPhase:
    """One round (or the rest of one a kill interrupted), then whatever follows it up to the next round."""
    if optimization.context is None:
        raise RuntimeError("this run was opened read-only (no services, no library)")
    if optimization.pending():
        return RunPhase.WAITING
    payload = None if optimization.started else initial_state(optimization.run.task())
    for mode, chunk in optimization.graph.stream(
        payload, optimization.run.thread_config(), context=optimization.context,
        stream_mode=["custom", "updates"], interrupt_before=[ROUND_START],
    ):
        if mode == "custom" and on_event is not None:
            on_event(chunk)
    state = optimization.graph.get_state(optimization.run.thread_config())
    if state.next == (ROUND_START,) and not _searched(optimization):
        # A new run stops before its first round at once: run that round too.
        return advance(optimization, on_event)
    return phase(optimization)


def stop_searching(optimization: OptimizationRun, reason: StopReason, on_event: OnEvent | None = None) -> RunPhase:
    """Stops every device still searching with `reason`, then runs the approval that follows."""
    config = optimization.run.thread_config()
    searches = optimization.state()["searches"]
    stopped = {device: search if not search.active else search.model_copy(update={"stop": reason})
               for device, search in searches.items()}
    optimization.graph.update_state(config, {"searches": stopped}, as_node="select_or_stop")
    return advance(optimization, on_event)


def _searched(optimization: OptimizationRun) -> bool:
    return any(search.rounds for search in optimization.state()["searches"].values())
