"""kevolve against a real 135M-parameter model on llama.cpp's server: it writes almost no correct
kernel, so what is tested is that everything around it holds: the run stays up, counts the tokens
the server reports, stops on its budget, approves nothing that is not correct and clean, tells the
truth in its summary, resumes; and the chat answers through the real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.graph.run_directory import RunDirectory
from kevolve.graph.runner import OptimizationRun

pytestmark = [pytest.mark.real_model, pytest.mark.slow]

GELU = SUITE_DIR / "elementwise_gelu_tanh.py"
FAST = ["--device", "cpu", "--trials", "2", "--timing-trials", "5", "--no-knowledge"]


def kevolve(command: str, *args: object, home: Path, env: dict[str, str], stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "kevolve", command, "--runs-dir", str(home / "runs"), "--library",
         str(home / "library"), *map(str, args)],
        capture_output=True, text=True, timeout=1500, env={**os.environ, **env}, input=stdin,
    )


def completions_served(log: Path) -> int:
    return log.read_text().count("POST /v1/chat/completions")


def test_a_real_model_run_stays_up_approves_nothing_wrong_and_resumes(real_model, tmp_path):
    served_before = completions_served(real_model.log)
    done = kevolve("optimize", GELU, *FAST, "--patience", "2", "--budget", "rounds=2", "--auto-approve",
                   home=tmp_path, env=real_model.environment())
    # 0: a kernel went to the library; 4: none did (a 135M model rarely writes a correct one).
    assert done.returncode in (0, 4), done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    [run_dir] = list((tmp_path / "runs").iterdir())
    with OptimizationRun(RunDirectory(run_dir)) as run:
        state = run.state()
        assert run.finished()
    search = state["searches"]["cpu"]
    assert search.stop is not None and search.rounds <= 2
    # Tokens come from the server's usage blocks. The server also served the one-off capability probes
    # (kept in the run's folder) and the retries of refused ones, which carry no usage.
    usage = state["usage"]
    assert usage.input_tokens > 0 and 0 < usage.calls <= completions_served(real_model.log) - served_before
    [probed] = run_dir.glob("capabilities-*.json")
    assert json.loads(probed.read_text())["structured"]["function_calling"]["works"]
    # Nothing reaches the library unless the harness accepted it.
    for record in (tmp_path / "library").glob("*/*/*.json"):
        node = search.nodes[json.loads(record.read_text())["node_id"]]
        assert node.accepted and node.outcome.beats_baselines is not False
    # The summary lists every candidate with the verdict the harness gave it.
    summary = (run_dir / "summary.md").read_text()
    for node in search.nodes.values():
        assert node.id in summary
        if node.outcome is not None:
            assert node.outcome.status.value in summary

    resumed = kevolve("optimize", "--resume", run_dir.name, home=tmp_path, env=real_model.environment())
    assert resumed.returncode == done.returncode and "Traceback" not in resumed.stderr, resumed.stderr[-3000:]


def test_the_chat_answers_through_the_real_model(real_model, tmp_path):
    served_before = completions_served(real_model.log)
    lines = "optimize the gelu tanh problem on the cpu\nhow is it going?\nstop\nquit\n"
    chat = kevolve("chat", *FAST, "--patience", "1", "--budget", "rounds=1", home=tmp_path,
                   env=real_model.environment(), stdin=lines)
    assert chat.returncode == 0, chat.stdout[-3000:] + chat.stderr[-3000:]
    assert "Traceback" not in chat.stdout + chat.stderr
    # A 135M model may read "how is it going?" or "stop" as "quit"; only the person's own "quit" ends it.
    assert chat.stdout.count("you>") >= 4
    # Each line was understood by the model (one call each, at least), not by the keyword rules alone.
    assert completions_served(real_model.log) - served_before >= 3
