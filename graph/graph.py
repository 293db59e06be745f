"""The optimization graph's wiring: nodes, edges, routers. Nothing else lives here.

    START -> plan_round -> write_candidates -> review_candidates -> evaluate_candidates
          -> analyze_results -> select_or_stop -> (plan_round | await_approval | finish)
    await_approval -> (await_approval | plan_round | finish);  finish -> END

`builder` is exported uncompiled: the CLI compiles it with the run's SQLite checkpointer, tests
with an in-memory one.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from .context import RunContext
from .nodes.analyze import analyze_results
from .nodes.approve import await_approval, awaiting_approval
from .nodes.code import write_candidates
from .nodes.evaluate import evaluate_candidates
from .nodes.finish import finish
from .nodes.plan import plan_round
from .nodes.review import review_candidates
from .nodes.select import select_or_stop
from .state import OptimizeState, active_devices


def route_after_round(state: OptimizeState) -> Literal["plan_round", "await_approval", "finish"]:
    """Devices still searching go on; approval waits until no device searches, so that a person's
    absence never holds up another device's search."""
    if active_devices(state):
        return "plan_round"
    if awaiting_approval(state):
        return "await_approval"
    return "finish"


def route_after_planning(state: OptimizeState) -> Literal["write_candidates", "select_or_stop"]:
    return "write_candidates" if state["round_nodes"] else "select_or_stop"


builder = StateGraph(OptimizeState, context_schema=RunContext)
builder.add_node(plan_round)
builder.add_node(write_candidates)
builder.add_node(review_candidates)
builder.add_node(evaluate_candidates)
builder.add_node(analyze_results)
builder.add_node(select_or_stop)
builder.add_node(await_approval)
builder.add_node(finish)

builder.add_edge(START, "plan_round")
builder.add_conditional_edges("plan_round", route_after_planning)
builder.add_edge("write_candidates", "review_candidates")
builder.add_edge("review_candidates", "evaluate_candidates")
builder.add_edge("evaluate_candidates", "analyze_results")
builder.add_edge("analyze_results", "select_or_stop")
builder.add_conditional_edges("select_or_stop", route_after_round)
builder.add_conditional_edges("await_approval", route_after_round)
builder.add_edge("finish", END)
