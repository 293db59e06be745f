"""A person in headless Chromium, against `kevolve serve` run as a subprocess: reject a real run's waiting
kernel with a comment, watch the search go on and wait again, then approve its next kernel into the library.

KEVOLVE_WRITE_SCREENSHOTS=1 saves the queue and a kernel's page to docs/screenshots/ for docs/review.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from headless_chromium import SCREENSHOTS, needs_chromium, webdriver
from kevolve.graph.run_directory import list_runs
from kevolve.graph.runner import OptimizationRun
from local_ports import free_port

pytestmark = needs_chromium
STOPPED = {"waiting", "finished", "stopped"}
SETTLE_S = 300  # a rejection searches a whole round again on Triton's CPU interpreter


@pytest.fixture
def server(home: Path, baseline_cache: Path) -> Iterator[str]:
    port = free_port()
    log = (home / "serve.log").open("w")
    # Started in `home` with relative folders, as a person would: the pages (and screenshots) show `runs`.
    process = subprocess.Popen(
        [sys.executable, "-m", "kevolve", "serve", "--port", str(port), "--runs-dir", "runs",
         "--library", "library", "--no-knowledge", "--cache-dir", str(baseline_cache)],
        stdout=log, stderr=subprocess.STDOUT, cwd=home,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url, timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    assert process.poll() is None, (home / "serve.log").read_text()
    yield url
    process.send_signal(signal.SIGINT)  # as Ctrl-C: the server stops its searches cleanly
    process.wait(timeout=90)
    log.close()


def decide(driver: webdriver.Chrome, button: str, *, reviewer: str, comment: str = "") -> str:
    """Fills the form, presses `button`, and waits on the page (it refreshes itself) for the run to stop."""
    name = driver.find_element(By.ID, "reviewer")
    name.clear()
    name.send_keys(reviewer)
    driver.find_element(By.ID, "comment").send_keys(comment)
    driver.find_element(By.ID, button).click()
    wait = WebDriverWait(driver, SETTLE_S, poll_frequency=0.5,
                         ignored_exceptions=[NoSuchElementException, StaleElementReferenceException])
    return wait.until(lambda d: (d.find_element(By.ID, "run-status").get_attribute("data-status") in STOPPED
                                 and d.find_element(By.ID, "run-status").get_attribute("data-status")))


def screenshot(driver: webdriver.Chrome, name: str, *, max_height: int) -> None:
    if os.environ.get("KEVOLVE_WRITE_SCREENSHOTS") != "1":
        return
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(height, max_height))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(1280, 900)


def test_reject_then_approve_in_the_browser(server, browser, home):
    browser.get(server)
    [link] = browser.find_elements(By.CLASS_NAME, "kernel-link")
    assert link.text == "cpu-r01-0"
    link.click()
    assert "class ModelNew" in browser.find_element(By.ID, "source").text
    screenshot(browser, "kernel", max_height=1900)

    comment = "too few elements per program for this size: try a smaller block"
    assert decide(browser, "reject", reviewer="grace", comment=comment) == "waiting"
    assert "Rejected by grace" in browser.find_element(By.ID, "decision-line").text
    browser.get(server)
    [link] = browser.find_elements(By.CLASS_NAME, "kernel-link")
    assert link.text != "cpu-r01-0"  # the rejected kernel is never offered again
    screenshot(browser, "queue", max_height=900)

    link.click()
    assert decide(browser, "approve", reviewer="grace") == "finished"
    [record] = (home / "library").glob("*/*/*.json")
    assert '"approved_by": "grace"' in record.read_text()
    [run] = list_runs(home / "runs")
    with OptimizationRun(run) as optimization:
        assert optimization.state()["searches"]["cpu"].guidance == [comment]
