"""The search options that start a run (`optimize`, `chat`), and the TaskSpec built from them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from kevolve.eval_harness.precision import Precision
from kevolve.eval_harness.problem import load_problem
from kevolve.graph.configuration import Budget, SearchSettings, Selection, Targets
from kevolve.tools.executors.settings import ExecutorKind

from .budget_option import parse_budget
from .options import UsageError, resolve_device, settings_from
from .run_options import run_sources

if TYPE_CHECKING:
    from kevolve.graph.state import TaskSpec


def add_search_options(parser: argparse.ArgumentParser) -> None:
    # The defaults are SearchSettings' own, so the command line and a campaign spec cannot drift apart.
    defaults = SearchSettings()
    parser.add_argument("--selection", choices=[s.value for s in Selection], default=defaults.selection.value)
    parser.add_argument("--candidates-per-round", type=int, default=defaults.candidates_per_round,
                        help=f"candidates per device each round (default {defaults.candidates_per_round})")
    parser.add_argument("--patience", type=int, default=defaults.patience,
                        help=f"rounds without gain before a device stops (default {defaults.patience})")
    parser.add_argument("--min-gain", type=float, default=defaults.min_gain,
                        help=f"relative gain that counts as progress (default {defaults.min_gain})")
    parser.add_argument("--budget", default=None,
                        help=f"rounds=N,wall=SECONDS,tokens=N,usd=X (default rounds={defaults.budget.max_rounds}, "
                             "the rest unbounded)")
    parser.add_argument("--target-speedup", type=float, default=None)
    parser.add_argument("--target-light", type=float, default=None, help="stop at this %% of speed of light")
    parser.add_argument("--auto-approve", action="store_true",
                        help="put the best kernel in the library without a person (recorded as such)")


def search_settings(args: argparse.Namespace) -> SearchSettings:
    try:
        return SearchSettings(
            selection=Selection(args.selection), candidates_per_round=args.candidates_per_round,
            patience=args.patience, min_gain=args.min_gain, budget=parse_budget(args.budget, default=Budget()),
            targets=Targets(speedup=args.target_speedup, percent_of_light=args.target_light),
            auto_approve=args.auto_approve,
        )
    except ValidationError as error:
        problems = "; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in error.errors())
        raise UsageError(f"invalid search settings: {problems}") from None


def new_task(args: argparse.Namespace, problem_path: Path, *, devices: list[str],
             precision: Precision | None = None) -> TaskSpec:
    """A new run's task: `problem_path` on `devices` ("auto" allowed), judged and searched as `args` say, in
    `precision` when given (a chat request that names one) instead of --precision."""
    # Imported here: the graph loads LangGraph, and the parser that imports this module must start fast.
    from kevolve.graph.run_directory import new_run_id
    from kevolve.graph.state import TaskSpec

    problem = load_problem(problem_path)
    search = search_settings(args)
    evaluation = settings_from(args, precision=precision)
    resolved = [resolve_device(device) for device in devices]
    if args.executor == ExecutorKind.LOCAL.value:
        _check_here(resolved)
    return TaskSpec(
        run_id=new_run_id(problem.name), problem_path=str(Path(problem_path).resolve()), problem_name=problem.name,
        problem_source=problem.source,
        devices=resolved,
        policy=evaluation.policy.value, search=search, evaluation=evaluation,
        sources=run_sources(args),
    )


def _check_here(devices: list[str]) -> None:
    """Raises UnknownDeviceError for a device this machine lacks, before a run folder is made for it."""
    from kevolve.eval_harness.environment import parse_device  # loads PyTorch

    for device in devices:
        parse_device(device)
