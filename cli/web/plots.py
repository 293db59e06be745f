"""Inline SVG made on the server: timings with their spread, and the kernel's place under the speed of light."""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from markupsafe import Markup

from kevolve.eval_harness.static_checks.hidden_characters import reveal
from kevolve.graph.approval import TimingEvidence

COLORS = {"candidate": "#2563eb", "eager": "#6b7280", "compiled": "#d97706"}
LABEL_W, PLOT_W, TEXT_W, ROW_H, AXIS_H = 80, 340, 280, 30, 26
# Past this ratio between the slowest and fastest timing a linear axis squeezes the fast boxes to
# nothing (the CPU interpreter's candidate is ~1000x its baselines): the axis turns logarithmic.
LOG_AXIS_RATIO = 20.0


def timing_plot(timings: list[TimingEvidence]) -> Markup:
    """One row per timed contender: the box spans q1 to q3, the bar across it is the median."""
    if not timings:
        return Markup('<p class="muted">no timings</p>')
    low = max(min(t.q1_ms for t in timings), 1e-6)  # a log axis cannot start at 0
    high = max(t.q3_ms for t in timings)
    log_axis = high / max(low, 1e-12) > LOG_AXIS_RATIO
    x, ticks = _log_axis(low / 1.5, high * 1.5) if log_axis else _linear_axis(high * 1.1)
    width, height = LABEL_W + PLOT_W + TEXT_W, len(timings) * ROW_H + AXIS_H
    parts = []
    for row, timing in enumerate(timings):
        top = row * ROW_H + 6
        color = COLORS.get(timing.name, "#111827")
        left, right = x(timing.q1_ms), x(timing.q3_ms)
        median = x(timing.median_ms)
        parts += [
            f'<text x="{LABEL_W - 8}" y="{top + 13}" text-anchor="end">{escape(reveal(timing.name))}</text>',
            f'<rect x="{left:.1f}" y="{top}" width="{max(right - left, 1.5):.1f}" height="18" '
            f'fill="{color}" fill-opacity="0.3" stroke="{color}"/>',
            f'<line x1="{median:.1f}" x2="{median:.1f}" y1="{top - 2}" y2="{top + 20}" stroke="{color}" '
            'stroke-width="3"/>',
            f'<text x="{LABEL_W + PLOT_W + 10}" y="{top + 13}">{_ms(timing.median_ms)} ms '
            f'(q1 {_ms(timing.q1_ms)} to q3 {_ms(timing.q3_ms)}, n={timing.trials})</text>',
        ]
    axis_y = len(timings) * ROW_H + 4
    parts.append(f'<line x1="{LABEL_W}" x2="{LABEL_W + PLOT_W}" y1="{axis_y}" y2="{axis_y}" stroke="#9ca3af"/>')
    for tick in ticks:
        parts += [
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{axis_y}" y2="{axis_y + 4}" stroke="#9ca3af"/>',
            f'<text x="{x(tick):.1f}" y="{axis_y + 16}" text-anchor="middle" class="tick">{_ms(tick)}</text>',
        ]
    unit = "ms, log scale" if log_axis else "ms"
    parts.append(f'<text x="{LABEL_W - 8}" y="{axis_y + 16}" text-anchor="end" class="tick">{unit}</text>')
    return _svg(width, height, "timings: median and interquartile range per contender", parts)


def light_gauge(percent: float | None) -> Markup:
    """Where the kernel sits between nothing and the problem's speed-of-light floor (100%)."""
    if percent is None:
        return Markup('<p class="muted">not measured on this device (no meaningful timing or no floor)</p>')
    left, width = 10, 300
    filled = width * min(max(percent, 0.0), 100.0) / 100.0
    parts = [
        f'<rect x="{left}" y="8" width="{width}" height="18" fill="#e5e7eb" stroke="#9ca3af"/>',
        f'<rect x="{left}" y="8" width="{filled:.1f}" height="18" fill="#16a34a"/>',
        f'<text x="{left + width + 10}" y="22">{percent:.1f}% of speed of light</text>',
    ]
    for tick in (0, 25, 50, 75, 100):
        position = left + width * tick / 100
        parts += [
            f'<line x1="{position}" x2="{position}" y1="26" y2="30" stroke="#9ca3af"/>',
            f'<text x="{position}" y="42" text-anchor="middle" class="tick">{tick}%</text>',
        ]
    return _svg(left + width + 190, 48, f"{percent:.1f} percent of the speed-of-light floor", parts)


def _linear_axis(high: float) -> tuple[Callable[[float], float], list[float]]:
    high = high if high > 0 else 1.0
    raw_step = high / 4
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    ticks = [i * step for i in range(int(high / step) + 1)]
    return (lambda value: LABEL_W + PLOT_W * value / high), ticks


def _log_axis(low: float, high: float) -> tuple[Callable[[float], float], list[float]]:
    low_exp, high_exp = math.log10(low), math.log10(high)

    def x(value: float) -> float:
        return LABEL_W + PLOT_W * (math.log10(max(value, low)) - low_exp) / (high_exp - low_exp)

    return x, [10.0 ** e for e in range(math.ceil(low_exp), math.floor(high_exp) + 1)]


def _ms(value: float) -> str:
    return f"{value:.3g}"


def _svg(width: int, height: int, label: str, parts: list[str]) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}" class="plot"><title>{escape(label)}</title>{body}</svg>'
    )
