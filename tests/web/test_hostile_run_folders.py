"""A run folder that cannot be read takes nothing down with it: the queue page and `kevolve review` list it as
broken, with the reason, and serve every other run; asking for a kernel in it is a clear refusal, never a
traceback. One damaged copy per way a folder was found to break (hostile_runs.DAMAGES)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from hostile_runs import FOREIGN_MARK, damaged_runs

from kevolve.graph.database import DATABASE_URL_VARIABLE
from kevolve.main import main

EXIT_USAGE = 2


@pytest.fixture
def damaged(home, monkeypatch) -> dict[str, str]:
    monkeypatch.delenv(DATABASE_URL_VARIABLE, raising=False)
    return damaged_runs(home / "runs")


def test_the_queue_page_lists_each_broken_run_with_its_reason_and_serves_the_rest(make_client, review_id, damaged):
    client = make_client()
    queue = client.get("/")
    assert queue.status_code == 200
    assert f'href="/kernels/{review_id.replace(":", "%3A")}"' in queue.text  # the healthy kernel, still decidable
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"broken-reason\">([^<]+)</td>", queue.text))
    assert set(rows) == set(damaged)
    for run_id, reason in damaged.items():
        assert reason in rows[run_id]
    assert client.get(f"/kernels/{review_id}").status_code == 200
    for run_id in damaged:
        page = client.get(f"/kernels/{run_id}:cpu-r01-0")
        assert page.status_code == 409 and f"run {run_id} cannot be read" in page.text
    runs = client.app.state.settings.runs_dir
    assert not any((run / FOREIGN_MARK).exists() for run in runs.iterdir())
    assert not (runs / "zz-no-database" / "checkpoints.sqlite").exists()  # looking wrote nothing into the folder


def test_review_lists_the_broken_runs_apart_and_exits_0(home, review_id, damaged):
    # The real command, in its own process: what a person sees, with no traceback anywhere.
    listed = subprocess.run([sys.executable, "-m", "kevolve", "review", "--runs-dir", str(home / "runs")],
                            capture_output=True, text=True, timeout=300,
                            env={k: v for k, v in os.environ.items() if k != DATABASE_URL_VARIABLE})
    assert listed.returncode == 0, listed.stderr
    assert review_id in listed.stdout and "Traceback" not in listed.stdout + listed.stderr
    for run_id, reason in damaged.items():
        [line] = [line for line in listed.stderr.splitlines() if f"cannot read run {run_id}:" in line]
        assert reason in line


@pytest.mark.parametrize("verb", [["show"], ["approve", "--reviewer", "ada"], ["reject", "--comment", "no"]])
def test_show_approve_or_reject_in_a_broken_run_is_a_clear_refusal(home, damaged, capsys, verb):
    for run_id, reason in damaged.items():
        code = main(["review", "--runs-dir", str(home / "runs"), "--library", str(home / "library"), verb[0],
                     f"{run_id}:cpu-r01-0", *verb[1:]])
        err = " ".join(capsys.readouterr().err.split())
        assert code == EXIT_USAGE and f"run {run_id} cannot be read" in err and reason in err
    assert not (home / "library").exists()
