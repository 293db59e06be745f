"""A campaign whose state and checkpoints live in a real PostgreSQL server: killed with -9 mid-run and resumed
from another process, which finds everything through the database URL alone."""

from __future__ import annotations

import os
import shutil
import subprocess

from campaign_helpers import (
    GELU_BLOCKS,
    campaign,
    campaign_args,
    campaign_command,
    evaluations,
    kevolve_here,
    kill_when,
    write_spec,
)

from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.graph.campaign.store import CampaignStore, ProblemState
from kevolve.graph.database import DATABASE_URL_VARIABLE


def test_a_campaign_in_postgres_survives_kill_9_and_resumes_from_another_process(tmp_path, postgres_url,
                                                                                monkeypatch):
    write_spec(tmp_path, problems=[str(SUITE_DIR / "elementwise_gelu_tanh.py")])
    env = dict(os.environ) | {DATABASE_URL_VARIABLE: postgres_url}
    process = subprocess.Popen(campaign_command("run", tmp_path / "spec.yaml", "--auto-approve", home=tmp_path),
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    kill_when(tmp_path, process, evaluated=1)
    killed_with = evaluations(tmp_path)
    [run] = (tmp_path / "runs").iterdir()
    assert (run / "checkpoints.postgres").is_file() and not (run / "checkpoints.sqlite").exists()

    with CampaignStore.postgres(postgres_url) as store:
        [campaign_id] = store.campaign_ids()
    assert not list((tmp_path / "campaigns").rglob("*.sqlite"))
    # Another process as on another host: no campaign folder, only the shared runs folder and the database.
    shutil.rmtree(tmp_path / "campaigns")
    resumed = campaign("resume", campaign_id, home=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr

    assert killed_with <= evaluations(tmp_path)
    assert len(list((run / "evaluations").glob("*.json"))) == len(GELU_BLOCKS)
    assert list((tmp_path / "library").glob("elementwise_gelu_tanh/*/*.py"))
    with CampaignStore.postgres(postgres_url) as store:
        assert [entry.state for entry in store.problems(campaign_id)] == [ProblemState.DONE]
        assert len([i for i in store.evaluations(campaign_id) if i.name != "baselines"]) >= len(GELU_BLOCKS)
    monkeypatch.setenv(DATABASE_URL_VARIABLE, postgres_url)
    code, out, _ = kevolve_here(*campaign_args("status", campaign_id, home=tmp_path))
    assert code == 0 and "done" in out
