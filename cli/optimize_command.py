"""`kevolve optimize PROBLEM ...` and `kevolve optimize --resume RUN`: a search, live, to a verified kernel."""

from __future__ import annotations

import argparse
from pathlib import Path

from kevolve.eval_harness.problem import load_problem
from kevolve.graph.configuration import Budget, SearchSettings, Selection, Targets
from kevolve.graph.run_directory import RunDirectory, new_run_id
from kevolve.graph.runner import OptimizationRun
from kevolve.graph.services import close_services
from kevolve.graph.state import TaskSpec

from .budget_option import parse_budget
from .console import console
from .options import UsageError, add_evaluation_options, resolve_device, settings_from
from .progress import print_event
from .run_options import add_run_options, open_run_services

# The run stopped for a person's approval: not a failure, but not finished either.
EXIT_WAITING = 3


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("optimize", help="search for a verified, faster kernel for a problem")
    parser.add_argument("problem", type=Path, nargs="?", help="a problem file in KernelBench's format")
    parser.add_argument("--resume", metavar="RUN", default=None, help="continue a run (its id or folder)")
    parser.add_argument("--devices", nargs="+", default=None, metavar="DEVICE",
                        help="several target devices, each with its own search (e.g. cuda:0 cuda:1)")
    parser.add_argument("--selection", choices=[s.value for s in Selection], default=Selection.GREEDY.value)
    parser.add_argument("--candidates-per-round", type=int, default=1)
    parser.add_argument("--patience", type=int, default=3, help="rounds without gain before a device stops")
    parser.add_argument("--min-gain", type=float, default=0.02, help="relative gain that counts as progress")
    parser.add_argument("--budget", default=None,
                        help="rounds=N,wall=SECONDS,tokens=N,usd=X (default rounds=10, the rest unbounded)")
    parser.add_argument("--target-speedup", type=float, default=None)
    parser.add_argument("--target-light", type=float, default=None, help="stop at this %% of speed of light")
    parser.add_argument("--auto-approve", action="store_true",
                        help="put the best kernel in the library without a person (recorded as such)")
    add_evaluation_options(parser)
    add_run_options(parser)
    parser.set_defaults(run=run)


def _new_task(args: argparse.Namespace) -> TaskSpec:
    if args.problem is None:
        raise UsageError("give a problem file, or --resume RUN")
    problem = load_problem(args.problem)
    try:
        search = SearchSettings(
            selection=Selection(args.selection), candidates_per_round=args.candidates_per_round,
            patience=args.patience, min_gain=args.min_gain, budget=parse_budget(args.budget, default=Budget()),
            targets=Targets(speedup=args.target_speedup, percent_of_light=args.target_light),
            auto_approve=args.auto_approve,
        )
    except ValueError as error:
        raise UsageError(str(error).splitlines()[0] + ": " + str(error).splitlines()[-1].strip()) from None
    evaluation = settings_from(args)
    return TaskSpec(
        run_id=new_run_id(problem.name), problem_path=str(args.problem.resolve()), problem_name=problem.name,
        devices=[resolve_device(d) for d in (args.devices or [args.device])],
        policy=evaluation.policy.value, dtype=evaluation.dtype.value, search=search, evaluation=evaluation,
    )


def run(args: argparse.Namespace) -> int:
    task = RunDirectory.open(args.runs_dir, args.resume).task() if args.resume else _new_task(args)
    services = open_run_services(task, args)
    try:
        if args.resume:
            optimization = OptimizationRun(RunDirectory.open(args.runs_dir, args.resume), services,
                                           library=args.library)
        else:
            optimization = OptimizationRun.start(args.runs_dir, task, services, library=args.library)
        with optimization:
            console.print(f"run [bold]{optimization.run.run_id}[/] in {optimization.run.path}", highlight=False)
            optimization.go(print_event)
            return report_stop(optimization)
    finally:
        close_services(services)


def report_stop(optimization: OptimizationRun) -> int:
    """What the terminal says when a run stops: its summary, or what waits for a person."""
    pending = optimization.pending()
    if pending:
        for request in pending:
            console.print(f"[bold]{request.review_id}[/] waits for approval: "
                          f"kevolve review show {request.review_id}", highlight=False)
        return EXIT_WAITING
    console.print(optimization.state().get("summary", ""), markup=False, highlight=False)
    return 0
