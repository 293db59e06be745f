"""The report's plots, drawn by matplotlib as SVG text to inline in the page (no files, no network).

Each function returns None when the report has nothing to draw (a CPU run has no meaningful timings), so
the page says so instead of showing empty axes. Figures are made without pyplot: no global state, so
reports can be drawn from any thread.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, NullFormatter

from .model import DeviceResult, Report

_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "kevolve-report", "font.size": 9}
_EAGER, _COMPILED = "#4C72B0", "#DD8452"


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # the XML declaration and doctype are not allowed inside HTML


def _figure(height: float) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(8, height), layout="constrained")


def _plain_log(axes: Axes, which: str) -> None:
    """A log axis labelled 0.5, 1, 2 rather than 5x10^-1: these readers want ratios, not exponents."""
    axis = axes.xaxis if which == "x" else axes.yaxis
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def _measured(report: Report) -> list[tuple[str, DeviceResult]]:
    label = len({d.device for p in report.problems for d in p.devices}) > 1
    return [(f"{p.name} ({d.device})" if label else p.name, d)
            for p in report.problems for d in p.devices if d.over_eager or d.over_compiled]


def speedup_plot(report: Report) -> str | None:
    """Speedup of each problem's best kernel over eager PyTorch and torch.compile, with the 95% interval."""
    rows = _measured(report)
    if not rows:
        return None
    figure = _figure(1.2 + 0.35 * len(rows))
    axes = figure.add_subplot()
    for offset, (baseline, color, label) in enumerate(((lambda d: d.over_eager, _EAGER, "over eager"),
                                                       (lambda d: d.over_compiled, _COMPILED, "over torch.compile"))):
        ys, values, errors = [], [], [[], []]
        for index, (_, device) in enumerate(rows):
            speedup = baseline(device)
            if speedup is None:
                continue
            ys.append(index + (offset - 0.5) * 0.38)
            values.append(speedup.median)
            errors[0].append(max(speedup.median - speedup.low, 0.0))
            errors[1].append(max(speedup.high - speedup.median, 0.0))
        axes.barh(ys, values, height=0.36, color=color, label=label, xerr=errors, capsize=2)
    axes.axvline(1.0, color="black", linewidth=0.8)
    speedups = [s.median for _, d in rows for s in (d.over_eager, d.over_compiled) if s is not None]
    wide = max(speedups) / min(speedups) > 10  # a linear axis would squash the small ones to nothing
    if wide:
        axes.set_xscale("log")
        _plain_log(axes, "x")
    axes.set_yticks(range(len(rows)), [name for name, _ in rows])
    axes.invert_yaxis()
    axes.set_xlabel("speedup of the best kernel" + (" (log scale)" if wide else "") + "; 1 = as fast as the baseline")
    axes.legend(loc="lower right")
    return _svg(figure)


def fitness_plot(report: Report) -> str | None:
    """Best fitness after each round, one line per problem and device."""
    lines = [(name, device.best_history) for name, device in _with_history(report)]
    if not lines:
        return None
    figure = _figure(3.6)
    axes = figure.add_subplot()
    for name, history in lines:
        axes.plot(range(1, len(history) + 1), history, marker="o", markersize=3, label=name)
    axes.set_xlabel("round")
    axes.set_ylabel("best fitness (x over the faster baseline)")
    if len(lines) <= 12:
        axes.legend(fontsize=7, loc="best")
    return _svg(figure)


def _with_history(report: Report) -> list[tuple[str, DeviceResult]]:
    # A history of zeros and ones only says "no timing here" (CPU): nothing to plot.
    return [(f"{p.name} {d.device}", d) for p in report.problems for d in p.devices
            if d.best_history and any(value not in (0.0, 1.0) for value in d.best_history)]


def roofline_plot(report: Report) -> str | None:
    """Left: kernels that do matrix work, on the roofline of their device. Right: the rest, whose ceiling is
    memory bandwidth: the bandwidth they achieved against it."""
    points = [(p.name, d.roofline) for p in report.problems for d in p.devices
              if d.roofline is not None and d.roofline.peak_tflops and d.roofline.bandwidth_gbps]
    if not points:
        return None
    compute = [(name, point) for name, point in points if point.intensity]
    memory = [(name, point) for name, point in points if not point.intensity]
    figure = _figure(3.8)
    left, right = figure.subplots(1, 2, width_ratios=[3, 2]) if compute and memory else (
        (figure.add_subplot(), None) if compute else (None, figure.add_subplot()))
    if left is not None:
        _roofline(left, compute)
    if right is not None:
        names = [name for name, _ in memory]
        right.barh(names, [point.bandwidth_gbps for _, point in memory], color="#dddddd", label="attainable")
        right.barh(names, [point.achieved_gbps for _, point in memory], height=0.5, color=_EAGER, label="achieved")
        right.set_xlabel("GB/s (inputs read and outputs written once)")
        right.invert_yaxis()
        right.legend(loc="lower right", fontsize=7)
    return _svg(figure)


def _roofline(axes: Axes, points: list) -> None:
    roofs = sorted({(point.peak_tflops, point.bandwidth_gbps) for _, point in points})
    # The ridge (where the bandwidth slope meets the peak) is in view, so each kernel's side of it shows.
    ridges = [peak * 1e3 / bandwidth for peak, bandwidth in roofs]
    intensities = [point.intensity for _, point in points]
    low, high = min(*intensities, *ridges) / 10, max(*intensities, *ridges) * 10
    for peak, bandwidth in roofs:
        xs = [low * (high / low) ** (step / 64) for step in range(65)]
        axes.plot(xs, [min(peak, x * bandwidth / 1e3) for x in xs], color="black", linewidth=1)
    for name, point in points:
        axes.scatter(point.intensity, point.achieved_tflops, s=18, zorder=3)
        axes.annotate(name, (point.intensity, point.achieved_tflops), fontsize=7, xytext=(3, 3),
                      textcoords="offset points")
    axes.set_xscale("log")
    axes.set_yscale("log")
    _plain_log(axes, "x")
    _plain_log(axes, "y")
    axes.set_xlabel("arithmetic intensity (FLOP/byte)")
    axes.set_ylabel("TFLOP/s achieved (line: attainable)")


def cost_gain_plot(report: Report) -> str | None:
    """What each problem cost (LLM dollars plus GPU-hours at the spec's price) against what it gained."""
    points = [(p.name, p.cost_usd, p.best_fitness) for p in report.problems
              if p.cost_usd > 0 and p.best_fitness is not None and p.best_fitness > 0]
    if not points or all(fitness == 1.0 for _, _, fitness in points):
        return None
    figure = _figure(3.6)
    axes = figure.add_subplot()
    for name, cost, fitness in points:
        axes.scatter(cost, fitness, s=20, zorder=3)
        axes.annotate(name, (cost, fitness), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_xscale("log" if max(c for _, c, _ in points) / min(c for _, c, _ in points) > 20 else "linear")
    axes.set_yscale("log" if max(f for _, _, f in points) / max(min(f for _, _, f in points), 1e-9) > 10
                    else "linear")
    axes.set_xlabel("cost (USD: LLM calls + GPU time)")
    axes.set_ylabel("best fitness (x over the faster baseline)")
    return _svg(figure)


def all_plots(report: Report) -> dict[str, str | None]:
    return {"speedups": speedup_plot(report), "fitness": fitness_plot(report), "roofline": roofline_plot(report),
            "cost": cost_gain_plot(report)}
