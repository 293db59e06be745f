"""The server-made SVG: boxes where the figures say, an axis that keeps every box visible, no plot without data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from kevolve.graph.approval import TimingEvidence
from kevolve.web.plots import LABEL_W, PLOT_W, light_gauge, timing_plot


def timing(name: str, median: float, spread: float = 0.01) -> TimingEvidence:
    return TimingEvidence(name=name, median_ms=median, q1_ms=median - spread, q3_ms=median + spread, trials=100)


def boxes(svg: str) -> list[tuple[float, float]]:
    root = ElementTree.fromstring(svg)
    return [(float(rect.get("x")), float(rect.get("width"))) for rect in root.iter("{http://www.w3.org/2000/svg}rect")]


def test_close_timings_share_a_linear_axis_and_the_faster_box_sits_left():
    svg = str(timing_plot([timing("candidate", 0.5), timing("eager", 1.0), timing("compiled", 0.8)]))
    assert "log scale" not in svg
    (candidate, _), (eager, _), (compiled, _) = boxes(svg)
    assert LABEL_W < candidate < compiled < eager < LABEL_W + PLOT_W
    assert "0.5 ms (q1 0.49 to q3 0.51, n=100)" in svg


def test_timings_far_apart_get_a_log_axis_with_decade_ticks():
    svg = str(timing_plot([timing("candidate", 14.7, 0.3), timing("eager", 0.023, 0.0002)]))
    assert "ms, log scale" in svg
    assert re.findall(r'class="tick">([0-9.]+)<', svg) == ["0.1", "1", "10"]
    assert all(width >= 1.5 for _, width in boxes(svg))  # even the narrowest spread stays visible


def test_no_figures_no_plot():
    assert "no timings" in timing_plot([])
    assert "not measured" in light_gauge(None)


def test_the_light_gauge_fills_to_the_percentage_and_caps_at_the_floor():
    assert boxes(str(light_gauge(50.0)))[1][1] == 150.0
    over = str(light_gauge(130.0))
    assert boxes(over)[1][1] == 300.0 and "130.0% of speed of light" in over
