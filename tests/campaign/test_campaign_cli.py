"""`kevolve campaign` as a person runs it on the CPU: killed with -9 mid-campaign and resumed, a kernel left
for `kevolve review` by cost-aware stopping, status, and one clear line (exit 2) for a bad spec."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from campaign_helpers import (
    GELU_BLOCKS,
    campaign,
    campaign_args,
    campaign_command,
    evaluations,
    kevolve_here,
    kill_when,
    only_campaign,
    write_spec,
)

from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.graph.campaign.store import CampaignStore, ProblemState
from kevolve.graph.run_directory import RunDirectory
from kevolve.graph.runner import OptimizationRun
from kevolve.graph.search_tree import StopReason


def run_killed_and_resumed(home: Path, env: dict[str, str] | None = None) -> tuple[set[Path], str]:
    """Starts the spec's campaign, kills it (-9, the whole process group) after two evaluations, resumes it."""
    spec = home / "spec.yaml"
    process = subprocess.Popen(campaign_command("run", spec, "--auto-approve", home=home), cwd=home, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    kill_when(home, process, evaluated=2)
    killed_with = evaluations(home)
    resumed = campaign("resume", only_campaign(home), home=home, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    return killed_with, resumed.stdout


def assert_every_seed_judged_once(home: Path, killed_with: set[Path]) -> None:
    assert killed_with <= evaluations(home)  # nothing judged before the kill was lost
    by_run = {run.name: len(list((run / "evaluations").glob("*.json"))) for run in (home / "runs").iterdir()}
    assert sorted(by_run.values()) == [1, len(GELU_BLOCKS)]  # softmax has one seed, GELU three: each once
    library = {path.parent.parent.name for path in (home / "library").glob("*/*/*.py")}
    summaries = "\n".join(path.read_text() for path in (home / "runs").glob("*/summary.md"))
    assert library == {"elementwise_gelu_tanh", "softmax_rows"}, summaries


def test_a_campaign_killed_mid_run_resumes_losing_at_most_the_candidates_in_flight(tmp_path):
    write_spec(tmp_path)
    killed_with, _ = run_killed_and_resumed(tmp_path)
    assert_every_seed_judged_once(tmp_path, killed_with)
    [record] = [path for path in (tmp_path / "library").glob("elementwise_gelu_tanh/*/*.json")]
    assert json.loads(record.read_text())["approved_by"] == "nobody (--auto-approve)"
    # The spec names no precision: the default regime, resolved when the campaign started, kept through the kill.
    assert json.loads(record.read_text())["math"]["precision"] == "default"
    with CampaignStore.sqlite(tmp_path / "campaigns" / only_campaign(tmp_path) / "campaign.sqlite") as store:
        [campaign_id] = store.campaign_ids()
        assert store.campaign(campaign_id).auto_approve  # recorded with the campaign, not only in the runs
        assert {entry.state for entry in store.problems(campaign_id)} == {ProblemState.DONE}
        intervals = store.evaluations(campaign_id)
    assert {interval.device for interval in intervals} == {"cpu"}
    assert all(interval.ended_at >= interval.started_at for interval in intervals)

    code, out, _ = kevolve_here(*campaign_args("status", only_campaign(tmp_path), home=tmp_path))
    assert code == 0 and "elementwise_gelu_tanh" in out and "done" in out


def test_cost_aware_stopping_leaves_the_best_kernel_for_review(tmp_path):
    # On the CPU every accepted kernel has fitness 1: no gain, so a demanding threshold stops GELU after its
    # first round although three seeds are left; without --auto-approve its kernel waits for a person.
    spec = write_spec(tmp_path, problems=[str(SUITE_DIR / "elementwise_gelu_tanh.py")],
                      stopping={"min_gain_per_usd": 1e9, "min_rounds": 1})
    code, out, err = kevolve_here(*campaign_args("run", spec, home=tmp_path))
    assert code == 3, out + err
    assert "wait for approval" in out
    # Not a terminal: the progress is in lines a log file keeps, the round that ended and why it stopped.
    assert "elementwise_gelu_tanh: running, round 0" in out
    assert "elementwise_gelu_tanh: waiting, round 1, best cpu" in out and "(kernel waits: kevolve review)" in out
    [run] = (tmp_path / "runs").iterdir()
    assert len(list((run / "evaluations").glob("*.json"))) == 1
    with OptimizationRun(RunDirectory(run)) as optimization:
        [request] = optimization.pending()
    assert request.stop_reason == StopReason.LOW_EXPECTED_GAIN.value
    assert request.regime.startswith("default (float32")
    code, out, _ = kevolve_here("review", "--runs-dir", tmp_path / "runs")
    assert code == 0 and request.review_id in out
    code, out, _ = kevolve_here(*campaign_args("status", only_campaign(tmp_path), home=tmp_path))
    assert code == 0 and "waiting" in out

    # The morning report of this real campaign: the waiting kernel, the device's busy time, no fake figures.
    code, _, err = kevolve_here("report", only_campaign(tmp_path), "--campaigns-dir", tmp_path / "campaigns",
                                "--runs-dir", tmp_path / "runs", "--out", tmp_path / "report")
    assert code == 0, err
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    [problem] = report["problems"]
    assert problem["state"] == "waiting" and problem["devices"][0]["approval"] == "not_asked"
    assert problem["devices"][0]["over_eager"] is None  # CPU timings are not meaningful: no speedup invented
    [use] = report["device_use"]
    assert use["device"] == "cpu" and use["candidates"] == 1 and 0 < use["busy_fraction"] <= 1
    # The summary names the model the evaluations ran on, not only the device's label.
    assert use["device_name"] and use["device_name"] == problem["devices"][0]["device_name"]
    summary = (tmp_path / "report" / "report.md").read_text()
    assert f"waiting: kevolve review ({request.review_id})" in summary
    assert f"- cpu ({use['device_name']}): busy" in summary
    assert report["regime"].startswith("default (float32")
    assert f"precision regime of every figure: {report['regime']}" in summary
    code, _, err = kevolve_here("report", run, "--runs-dir", tmp_path / "runs", "--out", tmp_path / "run-report")
    run_report = json.loads((tmp_path / "run-report" / "report.json").read_text())
    assert code == 0 and run_report["kind"] == "run" and run_report["problems"][0]["state"] == "waiting"
    assert run_report["regime"] == report["regime"]
    # The CPU interpreter's time is no GPU-hour: the header's cost is the rows' (the LLM's, here none).
    for shown in (report, run_report):
        assert shown["totals"]["gpu_hours"] == 0 and shown["totals"]["cost_usd"] == shown["totals"]["llm_usd"]


def test_report_of_nothing_known_is_one_clear_line(tmp_path):
    code, _, err = kevolve_here("report", "nothing-here", "--campaigns-dir", tmp_path, "--runs-dir", tmp_path)
    assert code == 2 and "neither a campaign" in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "x", "problems": ["nowhere/*.py"], "devices": ["cpu"]}, "matches no file"),
        ({"name": "x", "problems": [], "devices": ["cpu"]}, "problems"),
        ({"name": "x", "problems": ["a.py"], "devices": ["cpu"], "budget": {"gpu_hours": -1}}, "budget.gpu_hours"),
        ({"name": "x", "problems": ["a.py"], "devices": ["cpu"], "stoping": {}}, "stoping"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_a_bad_spec_is_one_clear_line_and_exit_2(tmp_path, spec, message):
    path = tmp_path / "spec.yaml"
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec))
    code, out, err = kevolve_here(*campaign_args("run", path, home=tmp_path))
    assert code == 2, out + err
    assert message in err and len(err.strip().splitlines()) <= 3  # one message, wrapped at most


def test_an_unknown_campaign_is_one_clear_line(tmp_path):
    code, _, err = kevolve_here(*campaign_args("resume", "no-such-campaign", home=tmp_path))
    assert code == 2 and "no campaign 'no-such-campaign'" in err
