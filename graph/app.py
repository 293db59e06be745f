"""The graph as `langgraph dev` and LangGraph's platform load it (see langgraph.json).

A server invokes graphs without kevolve's run context, so this entry point wraps the same graph
in one node that opens the run's folder and services from the environment (the KEVOLVE_* variables
the command line reads) and runs the inner graph with them. Interrupts for approval pass through.
The input is an `OptimizeState` with its `task`; the server's own checkpointer keeps the state.
"""

from __future__ import annotations

import os

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from kevolve.graph.context import RunContext
from kevolve.graph.folders import default_runs_dir, run_library
from kevolve.graph.graph import builder
from kevolve.graph.run_directory import RunDirectory
from kevolve.graph.services import open_services
from kevolve.graph.state import OptimizeState, TaskSpec
from kevolve.tools.knowledge.settings import KnowledgeSettings
from kevolve.tools.llm.settings import LLMSettings

_contexts: dict[str, RunContext] = {}  # one per run, reused while the server process lives


def _context_for(task: TaskSpec) -> RunContext:
    if task.run_id not in _contexts:
        runs_root = default_runs_dir()
        try:
            run = RunDirectory.open(runs_root, task.run_id)
        except LookupError:
            run = RunDirectory.create(runs_root, task)
        services = open_services(task, llm=LLMSettings.load(None, os.environ),
                                 knowledge=KnowledgeSettings.from_environment())
        _contexts[task.run_id] = RunContext(run=run, services=services,
                                            library=run_library(task.sources.library, None))
    return _contexts[task.run_id]


def make_graph() -> CompiledStateGraph:
    inner = builder.compile()

    def optimize(state: OptimizeState) -> OptimizeState:
        return inner.invoke(state, context=_context_for(state["task"]))

    outer = StateGraph(OptimizeState)
    outer.add_node(optimize)
    outer.add_edge(START, "optimize")
    outer.add_edge("optimize", END)
    return outer.compile()


graph = make_graph()
