"""The command line's defaults are the settings' own: a run started with no search or trial options searches and
judges exactly as SearchSettings and EvalSettings say, so the CLI and a campaign spec cannot drift apart."""

from __future__ import annotations

from pathlib import Path

from kevolve.eval_harness.settings import EvalSettings
from kevolve.graph.configuration import SearchSettings
from kevolve.main import build_parser
from kevolve.task_options import new_task
from loop_helpers import GELU_PROBLEM


def test_optimize_without_options_searches_and_judges_with_the_settings_defaults():
    args = build_parser().parse_args(["optimize", str(GELU_PROBLEM), "--device", "cpu"])
    task = new_task(args, Path(GELU_PROBLEM), devices=["cpu"])
    assert task.search == SearchSettings()
    assert task.evaluation.correctness_trials == EvalSettings().correctness_trials
    assert task.evaluation.timing.trials == EvalSettings().timing.trials


def test_library_revalidate_trials_default_to_the_harness_settings():
    args = build_parser().parse_args(["library", "revalidate"])
    assert (args.trials, args.timing_trials) == (EvalSettings().correctness_trials, EvalSettings().timing.trials)
