"""What a run keeps of its command line so a resume and an approval use the same folders and caches."""

from __future__ import annotations

from pathlib import Path

from kevolve.main import build_parser
from kevolve.run_options import run_executor_settings
from kevolve.task_options import new_task
from loop_helpers import GELU_PROBLEM


def _task(tmp_path: Path, *extra: str):
    args = build_parser().parse_args(["optimize", str(GELU_PROBLEM), "--device", "cpu", *extra])
    return new_task(args, Path(GELU_PROBLEM), devices=["cpu"])


def test_a_resume_judges_with_the_results_cache_the_run_started_with(tmp_path):
    cache = tmp_path / "results.sqlite"
    task = _task(tmp_path, "--results-db", str(cache))
    resumed = build_parser().parse_args(["optimize", "--resume", task.run_id])
    assert run_executor_settings(task, resumed).results.sqlite_path == cache.resolve()
    named_again = build_parser().parse_args(["optimize", "--resume", task.run_id, "--results-db", "other.sqlite"])
    assert run_executor_settings(task, named_again).results.sqlite_path == Path("other.sqlite")


def test_a_new_run_keeps_its_library_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    task = _task(tmp_path, "--library", "mine")
    assert task.sources.library == str(tmp_path / "mine")
    assert _task(tmp_path).sources.library == str(tmp_path / "kevolve-library")
