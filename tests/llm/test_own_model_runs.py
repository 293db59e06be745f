"""`kevolve optimize` with a model of one's own, as docs/models.md sets it up, against a fake server on 127.0.0.1:
the documented configuration finishes a run, a server that failed and came back is resumed, and the
wall budget holds while the server stalls. In-process (the CLI's `main`), so no start-up is paid twice.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path

import pytest
import yaml

from documented_settings import documented_llm_settings
from kevolve.graph.run_directory import RunDirectory
from kevolve.graph.runner import OptimizationRun
from kevolve.graph.search_tree import StopReason
from kevolve.main import main
from loop_helpers import GELU_PROBLEM
from openai_stub import ScriptedServer, error_reply, role_aware, serve

FAST = ["--device", "cpu", "--trials", "2", "--timing-trials", "5", "--no-knowledge", "--no-engine", "--auto-approve"]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("KEVOLVE_LLM_")] + ["OPENAI_API_KEY"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def configure(home: Path, url: str, **changes: object) -> None:
    settings = documented_llm_settings() | {"base_url": url, **changes}
    (home / "kevolve.yaml").write_text(yaml.safe_dump({"llm": settings}))


def optimize(home: Path, *args: str) -> int:
    return main(["optimize", "--runs-dir", str(home / "runs"), "--library", str(home / "library"), *args])


def only_run(home: Path) -> RunDirectory:
    [run] = list((home / "runs").iterdir())
    return RunDirectory(run)


def test_the_documented_configuration_finishes_a_run_one_request_at_a_time(home, capsys):
    with serve(ScriptedServer(responder=role_aware(itertools.count(256, 256)))) as server:
        configure(home, server.url)
        code = optimize(home, str(GELU_PROBLEM), *FAST, "--candidates-per-round", "2", "--budget", "rounds=2")
    _, err = capsys.readouterr()
    assert code == 0, err
    # The probes ask for short replies; every other request for the documented limit.
    limits = {request["max_tokens"] for request in server.requests}
    assert limits == {256, documented_llm_settings()["max_output_tokens"]}
    summary = (only_run(home).path / "summary.md").read_text()
    assert "(by the model (qwen2.5-coder-7b, its first reply))" in summary
    assert re.search(r"\d of the \d candidates the model wrote were accepted\.", summary)
    [record] = (home / "library").rglob("*.json")
    assert json.loads(record.read_text())["written_by"].startswith("model (qwen2.5-coder-7b, ")
    assert server.max_in_flight == 1  # two candidates a round, but the documented server answers one at a time


def test_a_run_waiting_for_a_person_has_its_summary_written_and_says_how_to_decide(home, capsys):
    with serve(ScriptedServer(responder=role_aware(itertools.count(256, 256)))) as server:
        configure(home, server.url)
        code = optimize(home, str(GELU_PROBLEM), *[o for o in FAST if o != "--auto-approve"], "--budget", "rounds=1")
    out, _ = capsys.readouterr()
    flat = " ".join(out.split())
    summary = (only_run(home).path / "summary.md").read_text()
    assert code == 3 and summary.strip() in out
    # Labelled by what the code does (the scripted reply's block), then what the plan asked for.
    assert re.search(r"- cpu-r01-0 \[draft\] triton: 1 kernel, BLOCK=\d+ \(asked: blocks of 256\) \(by the model",
                     summary)
    assert "waits for a person's decision" in flat and "kevolve review approve " in flat
    with OptimizationRun(only_run(home)) as waiting:
        [request] = waiting.pending()
    assert request.written_by == "model (qwen2.5-coder-7b, its first reply)"  # what the review page shows


def test_a_run_stopped_by_a_failing_server_resumes_once_it_is_healthy_with_a_new_budget(home, capsys):
    with serve(ScriptedServer(then=error_reply(500, "internal error"))) as failing:
        url = failing.url
        configure(home, url, max_retries=0)
        assert optimize(home, str(GELU_PROBLEM), *FAST, "--budget", "rounds=5") == 2
    run = only_run(home)
    _, err = capsys.readouterr()
    assert "HTTP 500: internal error" in err and f"kevolve optimize --resume {run.run_id}" in " ".join(err.split())
    assert "Traceback" not in err
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with serve(ScriptedServer(responder=role_aware(itertools.count(256, 256))), port=port) as healthy:
        code = optimize(home, "--resume", run.run_id, "--budget", "rounds=1")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert healthy.requests and "budget from now on: {'max_rounds': 1" in out
    assert _final_state(run)["searches"]["cpu"].stop is StopReason.MAX_ROUNDS


def test_the_wall_budget_ends_a_stalled_model_call_and_the_run_stops_on_wall_time(home, capsys):
    stalling = ScriptedServer(responder=role_aware(itertools.count(256, 256)))
    with serve(stalling) as server:
        first = stalling.responder
        stalling.responder = lambda request: _stalled(first(request))
        configure(home, server.url)
        started = time.monotonic()
        code = optimize(home, str(GELU_PROBLEM), *FAST, "--budget", "wall=3")
        took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 4, err  # ended, with no kernel for the library
    assert took < 30  # the stall is 120 s; timeout_s and the retries alone would be minutes
    assert "the run's wall budget" in out and "every device stops (wall_time)" in " ".join(out.split())
    state = _final_state(only_run(home))
    assert state["searches"]["cpu"].stop is StopReason.WALL_TIME


def _stalled(response):
    response.delay_s = 120.0
    return response


def _final_state(run: RunDirectory) -> dict:
    with OptimizationRun(run) as optimization:
        return optimization.state()
