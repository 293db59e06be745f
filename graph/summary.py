"""A run's outcome in a few lines of markdown: per device, how far it got and what it found."""

from __future__ import annotations

from kevolve.agents.coder import ReplyDefect
from kevolve.tools.candidates import Origin, SearchNode

from .state import OptimizeState


def format_ratio(value: float | None) -> str:
    return f"{value:.3g}x" if value is not None else "n/a"


def format_percent(value: float | None) -> str:
    return f"{value:.0f}%" if value is not None else "n/a"


def _best_cells(best: SearchNode | None) -> list[str]:
    if best is None:
        return ["none", "n/a", "n/a", "n/a"]
    outcome = best.outcome
    return [best.id, format_ratio(outcome.speedup_eager), format_ratio(outcome.speedup_compiled),
            format_percent(outcome.percent_of_light)]


def _label(node: SearchNode) -> str:
    """What the code does, read from it, then what the plan asked when that was something else."""
    if node.label is None:
        return node.plan.strategy
    return f"{node.label} (asked: {node.plan.strategy})"


def _verdict(node: SearchNode) -> str:
    outcome = node.outcome
    if outcome is None:
        return "not evaluated"
    kind = f" ({outcome.error_kind})" if outcome.error_kind else ""
    fitness = f", fitness {outcome.fitness:.3g}" if outcome.fitness else ""
    return f"{outcome.status.value}{kind}{fitness}"


def _defects_line(state: OptimizeState) -> list[str]:
    counts = state["reply_defects"]
    kinds = [f"{counts[kind]} {kind.value}" for kind in ReplyDefect if counts.get(kind)]
    return ["", "coder replies without a usable module: " + ", ".join(kinds)] if kinds else []


def _model_line(state: OptimizeState) -> list[str]:
    """What the model's candidates came to, in plain words; nothing when no model took part."""
    nodes = [node for search in state["searches"].values() for node in search.nodes.values()]
    by_model = [node for node in nodes if node.written_by is not None and node.written_by.origin is Origin.MODEL]
    if not by_model and not state["usage"].calls:
        return []
    others = sum(node.accepted for node in nodes) - sum(node.accepted for node in by_model)
    elsewhere = f"; the {others} accepted came from the offline engine or the seeds" if others else ""
    if not by_model:
        return ["", f"The model wrote no candidate{elsewhere}."]
    accepted = sum(node.accepted for node in by_model)
    if not accepted:
        return ["", f"No candidate the model wrote was accepted ({len(by_model)} written){elsewhere}."]
    return ["", f"{accepted} of the {len(by_model)} candidates the model wrote were accepted."]


def render_summary(state: OptimizeState) -> str:
    task = state["task"]
    usage = state["usage"]
    lines = [
        f"# Run {task.run_id}: {task.problem_name}",
        "",
        f"policy {task.policy}, precision {task.math.label}, selection {task.search.selection.value}; "
        f"{state['elapsed_s']:.0f} s in rounds; {usage.calls} LLM calls, {usage.total_tokens} tokens"
        + (f", ${usage.cost_usd:.4f}" if usage.cost_usd else ""),
        *_defects_line(state),
        "",
        "| device | rounds | candidates | accepted | stop | best | vs eager | vs compile | % of light | approval |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for device, search in state["searches"].items():
        accepted = sum(node.accepted for node in search.nodes.values())
        cells = [
            device, str(search.rounds), str(len(search.nodes)), str(accepted),
            search.stop.value if search.stop else "running", *_best_cells(search.best), search.approval.value,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += _model_line(state)
    for device, search in state["searches"].items():
        lines += ["", f"## {device}: candidates", ""]
        for node in sorted(search.nodes.values(), key=lambda n: (n.round, n.id)):
            author = f" (by the {node.written_by.describe()})" if node.written_by is not None else ""
            lines.append(f"- {node.id} [{node.plan.operator.value}] {_label(node)}{author}: {_verdict(node)}")
        if search.best_history:
            lines.append("")
            lines.append("best fitness by round: " + ", ".join(f"{value:.3g}" for value in search.best_history))
    return "\n".join(lines) + "\n"
