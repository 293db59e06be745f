"""The report page in headless Chromium, opened from disk: every plot is drawn (SVG paths with an area on the
page), the tables are there, and nothing is fetched from anywhere.

KEVOLVE_WRITE_SCREENSHOTS=1 saves the page to docs/screenshots/report.png for docs/campaigns.md.
"""

from __future__ import annotations

import os
import re

from report_samples import sample_report
from selenium.webdriver.common.by import By

from headless_chromium import SCREENSHOTS, needs_chromium
from kevolve.graph.report.render import CAPTIONS, write_report

pytestmark = needs_chromium

# The size on the page of every shape a figure's SVG draws: matplotlib draws axes, bars and lines as <path>
# and places each marker as a <use> of a path defined once, so a figure with data has many with an area.
DRAWN_PATHS = """
const svg = document.querySelector(arguments[0] + ' svg');
if (!svg) { return null; }
return Array.from(svg.querySelectorAll('path, use')).map(p => { const r = p.getBoundingClientRect();
  return [r.width, r.height]; });
"""


def test_the_report_opens_from_disk_with_every_plot_drawn(tmp_path, browser):
    files = write_report(sample_report(), tmp_path / "report")
    html = files["html"].read_text()
    # Self-contained: no script, no stylesheet or image link, and every reference inside the page (#id).
    assert "<script" not in html and "<link" not in html and "<img" not in html and "@import" not in html
    assert re.findall(r'(?:src|href)\s*=\s*"(?!#)', html) == []
    assert re.findall(r"url\((?!#)", html) == []
    browser.get(files["html"].as_uri())
    for key in CAPTIONS:
        paths = browser.execute_script(DRAWN_PATHS, f"#plot-{key}")
        assert paths is not None, f"{key}: no plot on the page"
        drawn = [size for size in paths if size[0] > 1 and size[1] > 1]
        assert len(drawn) >= 5, f"{key}: only {len(drawn)} of {len(paths)} shapes have an area"
    rows = browser.find_elements(By.CSS_SELECTOR, "#results tr")
    assert len(rows) == 1 + 4  # the header and one row per problem (one device each, the skipped one too)
    assert "waiting: kevolve review (r2:cuda0-r03-0)" in browser.find_element(By.ID, "results").text
    assert "83%" in browser.find_element(By.CLASS_NAME, "cards").text  # the device's busy fraction
    fast_p = browser.find_element(By.ID, "fast-p").text
    assert "75%" in fast_p  # fast_1 over compiled: three of the four problems, the skipped one failing
    if os.environ.get("KEVOLVE_WRITE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, height)
        browser.save_screenshot(str(SCREENSHOTS / "report.png"))
