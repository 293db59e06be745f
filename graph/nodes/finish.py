"""Node: the run's summary, written to its folder and kept in the state."""

from __future__ import annotations

from langgraph.runtime import Runtime

from ..context import RunContext
from ..state import OptimizeState
from ..summary import render_summary


def finish(state: OptimizeState, runtime: Runtime[RunContext]) -> dict:
    summary = render_summary(state)
    runtime.context.run.write_summary(summary)
    return {"summary": summary}
