"""The graph's progress events as live terminal lines: which agent does what, on which device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from kevolve.graph.runner import ProgressEvent

from .console import console, shown

_AGENT_STYLES = {
    "planner": "cyan", "coder": "magenta", "reviewer": "yellow", "evaluator": "blue",
    "analyst": "green", "search": "bold", "approval": "bold red",
}


def print_event(event: ProgressEvent) -> None:
    style = _AGENT_STYLES.get(event["agent"], "white")
    console.print(
        Text.assemble(shown(event["device"], "dim"), " ", shown(f"{event['agent']:>9}", style), " ",
                      shown(event["message"])),
        highlight=False,
    )
