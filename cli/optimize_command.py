"""`kevolve optimize PROBLEM ...` and `kevolve optimize --resume RUN`: a search, live, to a verified kernel."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from kevolve.graph.folders import run_library

from .console import console, print_error, shown
from .exit_codes import ExitCode
from .options import UsageError, add_evaluation_options
from .progress import print_event
from .run_options import add_run_options, open_run_services
from .task_options import add_search_options, new_task

if TYPE_CHECKING:  # the graph loads LangGraph and PyTorch: imported in run, so the parser answers at once
    from kevolve.graph.runner import OptimizationRun
    from kevolve.graph.state import OptimizeState, TaskSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("problem", type=Path, nargs="?", help="a problem file in KernelBench's format")
    parser.add_argument("--resume", metavar="RUN", default=None, help="continue a run (its id or folder)")
    parser.add_argument("--devices", nargs="+", default=None, metavar="DEVICE",
                        help="several target devices, each with its own search (e.g. cuda:0 cuda:1)")
    add_search_options(parser)
    add_evaluation_options(parser)
    add_run_options(parser)
    parser.set_defaults(run=run)


def _new_task(args: argparse.Namespace) -> TaskSpec:
    if args.problem is None:
        raise UsageError("give a problem file, or --resume RUN")
    return new_task(args, args.problem, devices=args.devices or [args.device])


def run(args: argparse.Namespace) -> int:
    from kevolve.graph.run_directory import RunDirectory
    from kevolve.graph.runner import OptimizationRun
    from kevolve.graph.services import close_services

    from .run_budget import bound_model_time, resumed_with_budget

    task = RunDirectory.open(args.runs_dir, args.resume).task() if args.resume else _new_task(args)
    services = open_run_services(task, args)
    # A new run's library is the one this command names (or the default): trusted, and marked when the run is
    # made. Only a resumed run's saved library comes from a folder that may have been copied from anywhere.
    library = run_library(task.sources.library, args.library) if args.resume else Path(task.sources.library)
    try:
        if args.resume:
            optimization = OptimizationRun(RunDirectory.open(args.runs_dir, args.resume), services, library=library)
        else:
            optimization = OptimizationRun.start(args.runs_dir, task, services, library=library)
        with optimization:
            console.print(Text.assemble("run ", shown(optimization.run.run_id, "bold"),
                                        shown(f" in {optimization.run.path}")), highlight=False)
            if args.resume and args.budget:
                budget = resumed_with_budget(optimization, args.budget)
                console.print(f"budget from now on: {budget.model_dump(exclude_none=True)}", highlight=False)
            bound_model_time(optimization, services.llm)
            return _search(optimization)
    finally:
        close_services(services)


def _search(optimization: OptimizationRun) -> int:
    from kevolve.tools.llm.base import LLMUnavailable
    from kevolve.tools.llm.deadline import WallBudgetSpent

    from .run_budget import stop_for_wall_time

    try:
        optimization.go(print_event)
    except WallBudgetSpent as exc:
        console.print(f"{exc}: every device stops (wall_time)", markup=False, highlight=False)
        stop_for_wall_time(optimization)
        optimization.go(print_event)
    except LLMUnavailable as exc:
        # Checkpoints hold everything up to the failed call.
        run_id = optimization.run.run_id
        print_error("model unavailable", f"{exc}\nthe run is saved; continue it with "
                                         f"`kevolve optimize --resume {run_id}` once the model answers")
        return ExitCode.USAGE_OR_UNAVAILABLE
    return report_stop(optimization)


def report_stop(optimization: OptimizationRun) -> int:
    """What the terminal says when a run stops, its summary or what waits for a person, and the exit code
    that tells a script which: a kernel went to the library, one waits, or the search found none."""
    from kevolve.graph.summary import render_summary

    pending = optimization.pending()
    state = optimization.state()
    if pending:
        # The summary so far, also in the run's folder: the finish node writes it only after the decision.
        summary = render_summary(state)
        optimization.run.write_summary(summary)
        console.print(summary, markup=False, highlight=False, soft_wrap=True)
        for request in pending:
            review = request.review_id
            console.print(Text.assemble(shown(review, "bold"), " waits for a person's decision: see the evidence "
                                        "with ", shown(f"kevolve review show {review}"), ", then ",
                                        shown(f"kevolve review approve {review}"), " or ",
                                        shown(f"kevolve review reject {review} --comment WHY")), highlight=False)
        return ExitCode.WAITING_FOR_APPROVAL
    console.print(state.get("summary", ""), markup=False, highlight=False, soft_wrap=True)
    return ExitCode.DONE if _library_got_a_kernel(state) else ExitCode.NO_KERNEL_FOUND


def _library_got_a_kernel(state: OptimizeState) -> bool:
    from kevolve.graph.search_tree import ApprovalState

    placed = (ApprovalState.APPROVED, ApprovalState.AUTO_APPROVED)
    return any(search.approval in placed for search in state.get("searches", {}).values())
