"""A real run waiting for approval, made once on the CPU from seed candidates and copied for each test that
decides it; and the review app over such a copy, with its services opened from `kevolve serve`'s options."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kevolve.graph.review_queue import OpenServices
from kevolve.run_options import open_run_services
from kevolve.web.app import create_app
from kevolve.web.settings import ServeSettings
from loop_helpers import GELU_PROBLEM, gelu_kernel
from web_helpers import FAST, FIRST_KERNEL, REVIEWER, serve_args


@pytest.fixture(scope="session")
def baseline_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("baselines")


@pytest.fixture(scope="session")
def waiting_runs(tmp_path_factory: pytest.TempPathFactory, baseline_cache: Path) -> Path:
    """A runs folder whose one run waits for approval of cpu-r01-0 (`kevolve optimize --patience 1`)."""
    home = tmp_path_factory.mktemp("template")
    seeds = home / "seeds" / "elementwise_gelu_tanh"
    seeds.mkdir(parents=True)
    for index, block in enumerate((1024, 2048, 512, 256)):
        (seeds / f"{index}_block{block}.py").write_text(gelu_kernel(block=block, fenced=False))
    made = subprocess.run(
        [sys.executable, "-m", "kevolve", "optimize", str(GELU_PROBLEM), *FAST, "--seeds", str(seeds.parent),
         "--patience", "1", "--runs-dir", str(home / "runs"), "--library", str(home / "library"),
         "--cache-dir", str(baseline_cache)],
        capture_output=True, text=True, timeout=600,
    )
    assert made.returncode == 3, made.stdout + made.stderr  # 3: stopped for a person's approval
    return home / "runs"


@pytest.fixture
def home(tmp_path: Path, waiting_runs: Path) -> Path:
    """A fresh copy: the run id (its folder's name) and its checkpoints travel with it."""
    shutil.copytree(waiting_runs, tmp_path / "runs")
    return tmp_path


@pytest.fixture
def review_id(home: Path) -> str:
    [run] = (home / "runs").iterdir()
    return f"{run.name}:{FIRST_KERNEL}"


@pytest.fixture
def make_client(home: Path, baseline_cache: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(*, token: str | None = None, allowed_hosts: list[str] | None = None,
             base_url: str = "http://testserver", open_services: OpenServices | None = None) -> TestClient:
        args = serve_args(home, baseline_cache)
        settings = ServeSettings(runs_dir=args.runs_dir, library=args.library, token=token,
                                 open_services=open_services or (lambda task: open_run_services(task, args)),
                                 allowed_hosts=allowed_hosts, default_reviewer=REVIEWER)
        client = TestClient(create_app(settings), base_url=base_url, follow_redirects=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
