"""Constants and helpers the review-page tests share (fixtures are in conftest.py)."""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

from kevolve import serve_command
from kevolve.graph import review_queue
from kevolve.graph.run_directory import list_runs
from kevolve.graph.runner import OptimizationRun

REVIEWER = "ada"


def serve_args(home: Path, cache_dir: Path, *extra: str) -> argparse.Namespace:
    """`kevolve serve`'s own parser, so the app opens services exactly as the command does."""
    parser = argparse.ArgumentParser()
    serve_command.add_arguments(parser)
    return parser.parse_args(["--runs-dir", str(home / "runs"), "--library", str(home / "library"),
                              "--no-knowledge", "--cache-dir", str(cache_dir), *extra])


def form_of(page: str, **fields: str) -> dict[str, str]:
    """The decision form as the page renders it (its hidden fields: form token and evidence), with `fields`
    filled in."""
    hidden = {name: html.unescape(value)
              for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)}
    assert "form_token" in hidden, "the page has no decision form"
    return {**hidden, "reviewer": REVIEWER, **fields}


def the_run(home: Path) -> OptimizationRun:
    [run] = list_runs(home / "runs")
    return OptimizationRun(run)


def still_waiting(home: Path, review_id: str) -> bool:
    return [request.review_id for _, request in review_queue.waiting(home / "runs")] == [review_id]
