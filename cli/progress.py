"""The graph's progress events as live terminal lines: which agent does what, on which device."""

from __future__ import annotations

from rich.markup import escape

from kevolve.graph.runner import ProgressEvent

from .console import console

_AGENT_STYLES = {
    "planner": "cyan", "coder": "magenta", "reviewer": "yellow", "evaluator": "blue",
    "analyst": "green", "search": "bold", "approval": "bold red",
}


def print_event(event: ProgressEvent) -> None:
    style = _AGENT_STYLES.get(event["agent"], "white")
    console.print(
        f"[dim]{escape(event['device'])}[/] [{style}]{event['agent']:>9}[/] {escape(event['message'])}",
        highlight=False,
    )
