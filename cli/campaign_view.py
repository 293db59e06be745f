"""A campaign on the terminal: per problem and device the best speedup, rounds and cost; the budget spent and
left; the estimated finish. One table, drawn live while the campaign runs and once by `campaign status`; lines
of progress instead where the output is not a terminal."""

from __future__ import annotations

import time

from rich.console import Group
from rich.table import Table
from rich.text import Text

from kevolve.graph.campaign.snapshot import HOUR_S, CampaignSnapshot, ProblemRow
from kevolve.graph.campaign.store import ProblemState
from kevolve.graph.summary import format_percent, format_ratio

_STATE_STYLES = {"searching": "cyan", "waiting": "bold yellow", "done": "green", "failed": "bold red",
                 "skipped": "dim", "pending": "dim"}


def render_snapshot(snapshot: CampaignSnapshot, *, last_events: dict[str, str] | None = None) -> Group:
    return Group(_header(snapshot), _problems(snapshot, last_events or {}))


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _header(snapshot: CampaignSnapshot) -> Text:
    spent, limits = snapshot.spent, snapshot.limits
    parts = [
        f"campaign {snapshot.id}" + (" (auto-approve)" if snapshot.auto_approve else ""),
        f"wall {_spent_of(spent.wall_s / HOUR_S, limits.wall_hours, 'h')}",
        f"GPU {_spent_of(spent.gpu_s / HOUR_S, limits.gpu_hours, 'h')}",
        f"tokens {_spent_of(spent.tokens, limits.tokens, '')}",
        f"${_spent_of(spent.usd, limits.usd, '')}",
        f"finish in ~{format_duration(snapshot.eta_s)}",
    ]
    busy = [f"{device} busy {seconds / max(spent.wall_s, 1e-9):.0%}" for device, seconds in snapshot.busy_s.items()]
    return Text(" | ".join(parts + busy))


def _spent_of(spent: float, limit: float | None, unit: str) -> str:
    if limit is None:
        return f"{spent:.3g}{unit} (no limit)"
    return f"{spent:.3g}/{limit:.3g}{unit} ({max(limit - spent, 0):.3g} left)"


def _problems(snapshot: CampaignSnapshot, last_events: dict[str, str]) -> Table:
    table = Table()
    # On a narrow terminal the figures give way first: a problem's name and state are what a person scans for.
    longest = max((len(row.name) for row in snapshot.problems), default=7)
    table.add_column("problem", no_wrap=True, min_width=min(longest, 32))
    table.add_column("state", no_wrap=True, min_width=9)
    for title in ("device", "rounds", "vs eager", "vs compile", "% of light", "GPU min", "tokens", "$"):
        table.add_column(title, no_wrap=True)
    table.add_column("latest", overflow="ellipsis", no_wrap=True, max_width=60)
    in_flight = set(snapshot.in_flight)
    for row in snapshot.problems:
        state = _shown_state(row, in_flight)
        style = "bold cyan" if row.name in in_flight else _STATE_STYLES.get(row.state.value, "white")
        latest = last_events.get(row.name, "") if row.name in in_flight else _note(row)
        for index, cells in enumerate(_device_cells(row)):
            head = [row.name, f"[{style}]{state}[/]"] if index == 0 else ["", ""]
            tail = ([f"{row.gpu_s / 60:.1f}", str(row.tokens), f"{row.llm_usd:.2f}", latest] if index == 0
                    else ["", "", "", ""])
            table.add_row(*head, *cells, *tail)
    return table


def _shown_state(row: ProblemRow, in_flight: set[str]) -> str:
    """`running` while a round of the problem is in flight, else its stored state."""
    return "running" if row.name in in_flight else row.state.value


def _note(row: ProblemRow) -> str:
    if row.state is ProblemState.WAITING:
        return "kernel waits: kevolve review"
    return row.detail or ", ".join(device.stop for device in row.devices if device.stop)


def _device_cells(row: ProblemRow) -> list[list[str]]:
    if not row.devices:
        return [["", "0", "n/a", "n/a", "n/a"]]
    return [[d.device, str(d.rounds), format_ratio(d.speedup_eager), format_ratio(d.speedup_compiled),
             format_percent(d.percent_of_light)] for d in row.devices]


class ProgressLines:
    """The campaign for a log file, where a live table cannot redraw (an overnight run sent to a file): a line
    per problem whenever its state or round count changes, so the log shows how far it got before a kill."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, int]] = {}

    def changes(self, snapshot: CampaignSnapshot) -> list[str]:
        lines = []
        in_flight = set(snapshot.in_flight)
        for row in snapshot.problems:
            state = _shown_state(row, in_flight)
            if self._seen.get(row.name) == (state, row.rounds):
                continue
            self._seen[row.name] = (state, row.rounds)
            best = "; ".join(f"{d.device} {format_ratio(d.speedup_eager)} over eager, "
                             f"{format_ratio(d.speedup_compiled)} over torch.compile" for d in row.devices if d.rounds)
            note = "" if row.name in in_flight else _note(row)
            lines.append(f"{row.name}: {state}, round {row.rounds}" + (f", best {best}" if best else "")
                         + (f" ({note})" if note else ""))
        if lines:
            lines.insert(0, f"{time.strftime('%H:%M:%S')} {_header(snapshot)}")
        return lines
