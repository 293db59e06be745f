"""A copy of the waiting run (tests/conftest.py makes it once) for each test that decides it; and the review
app over such a copy, with its services opened from `kevolve serve`'s options."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kevolve.graph.review_queue import OpenServices
from kevolve.run_options import open_run_services
from kevolve.web.app import create_app
from kevolve.web.settings import ServeSettings
from waiting_run import FIRST_KERNEL
from web_helpers import REVIEWER, serve_args


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
