"""`kevolve review [show|approve|reject] ID`: a person's decision on the kernels that wait for one."""

from __future__ import annotations

import argparse
import getpass
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from kevolve.eval_harness.static_checks.hidden_characters import reveal, summary
from kevolve.graph.folders import run_library

from .console import console, error_console, print_error, shown
from .optimize_command import report_stop
from .options import add_cache_options
from .progress import print_event
from .run_options import add_run_options, open_run_services
from .verb_options import add_verbs_with_options

if TYPE_CHECKING:
    from kevolve.graph.approval import ApprovalRequest

# The review queue, the run and the figures' formatting load PyTorch and LangGraph: they are imported in the
# functions that use them, so that `kevolve review --help` and an argument error answer at once.


def _add_review_options(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser)
    add_cache_options(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_verb = add_verbs_with_options(parser, _add_review_options, required=False)
    show = add_verb("show", help="the evidence for one waiting kernel")
    show.add_argument("id", help="a review id (<run>:<node>) as `kevolve review` lists it")
    approve = add_verb("approve", help="approve: the kernel goes to the library")
    approve.add_argument("id")
    approve.add_argument("--comment", default=None)
    approve.add_argument("--reviewer", default=None, help="who decides (default: the login name)")
    reject = add_verb("reject", help="reject with a comment: the search resumes with it as guidance")
    reject.add_argument("id")
    reject.add_argument("--comment", required=True, help="what is wrong, for the planner")
    reject.add_argument("--reviewer", default=None)
    parser.set_defaults(run=run)


def _list(args: argparse.Namespace) -> int:
    from kevolve.graph import review_queue
    from kevolve.graph.summary import format_percent, format_ratio

    found = review_queue.queue(args.runs_dir)
    if not found.waiting:
        console.print(shown(f"nothing waits for approval in {args.runs_dir}"))
    # One block a kernel, not a table: the id is what a person copies into `review show`, and beside six
    # figures it left them a few ellipses at 80 columns.
    for _, request in found.waiting:
        figures = (f"{format_ratio(request.speedup_eager)} vs eager, {format_ratio(request.speedup_compiled)} vs "
                   f"torch.compile, {format_percent(request.percent_of_light)} of light, "
                   f"{len(request.flags) + len(request.findings)} flag(s); precision {request.regime}")
        console.print(shown(request.review_id, "bold"), soft_wrap=True)
        console.print(Text.assemble("  ", shown(f"{request.problem} on {request.device}: "), figures))
    for broken in found.broken:
        error_console.print(Text.assemble(("cannot read run ", "bold red"), shown(broken.run.run_id, "bold red"),
                                          ": ", shown(broken.reason)), soft_wrap=True)
    return 0


def _show(request: ApprovalRequest) -> None:
    from kevolve.graph.summary import format_ratio

    # Not a rule's title: one longer than the terminal would be cut to an ellipsis, and the id is copied from it.
    console.rule()
    console.print(shown(f"{request.review_id}: {request.problem} on {request.device} (stopped: {request.stop_reason})",
                        "bold"), soft_wrap=True)
    hidden = summary(request.source)
    if hidden is not None:
        print_error("warning", f"the source holds {hidden}, shown below as <U+...> markers: an editor or a "
                               "terminal would show another program than the one that runs")
    console.print(Syntax(reveal(request.source), "python", line_numbers=True, word_wrap=True))
    console.print(f"source sha256 {request.source_sha256}: what `approve` writes to the library, or nothing",
                  highlight=False, soft_wrap=True)
    console.rule(shown(f"diff against {request.previous_best or 'the reference'}"))
    console.print(Syntax(reveal(request.diff_against_previous_best or "(no change)"), "diff", word_wrap=True))
    trials = Table("config", "seed", "passed", "max abs error", "max rel error", title="correctness")
    for trial in request.correctness_trials:
        trials.add_row(shown(trial.config), str(trial.seed), str(trial.passed), str(trial.max_abs_error),
                       str(trial.max_rel_error))
    console.print(trials)
    timings = Table("timed", "median ms", "q1 ms", "q3 ms", "trials", title="timings")
    for timing in request.timings:
        timings.add_row(shown(timing.name), f"{timing.median_ms:.4g}", f"{timing.q1_ms:.4g}", f"{timing.q3_ms:.4g}",
                        str(timing.trials))
    console.print(timings)
    verdict = {True: "yes", False: "NO", None: "not measured on this device"}[request.beats_baselines]
    console.print(f"faster than every baseline: {verdict} (vs eager {format_ratio(request.speedup_eager)}, "
                  f"vs torch.compile {format_ratio(request.speedup_compiled)})", highlight=False)
    console.print(f"precision regime (reference, baselines and kernel alike): {request.regime}", highlight=False)
    console.print(shown(request.profile_summary), highlight=False)
    if request.diagnosis is not None:
        console.print(shown(f"diagnosis: {request.diagnosis.bottleneck}; {request.diagnosis.headroom}"),
                      highlight=False)
    for line in [*request.flags, *request.findings]:
        console.print(shown(f"check: {line}"), highlight=False)


def _decide(args: argparse.Namespace, approved: bool) -> int:
    from kevolve.graph import review_queue
    from kevolve.graph.approval import ApprovalDecision
    from kevolve.graph.runner import OptimizationRun

    run, request = review_queue.find(args.runs_dir, args.id)
    # The decision names the request loaded here: if what waits changes before the claim, it is refused.
    decision = ApprovalDecision.on(request, approved=approved, reviewer=args.reviewer or getpass.getuser(),
                                   comment=args.comment)
    with review_queue.claim(run, request.review_id) as claimed:
        review_queue.check(claimed, decision)
        library = run_library(review_queue.read_task(run).sources.library, args.library)
        console.print(shown(f"{'approved' if approved else 'rejected'} {request.review_id}; the run goes on "
                            f"(approved kernels go to {library})"), highlight=False)
        review_queue.decide(claimed, decision, open_services=lambda task: open_run_services(task, args),
                            library=library, on_event=print_event)
    with OptimizationRun(run) as optimization:
        return report_stop(optimization)


def run(args: argparse.Namespace) -> int:
    match args.verb:
        case None:
            return _list(args)
        case "show":
            from kevolve.graph import review_queue

            _show(review_queue.find(args.runs_dir, args.id)[1])
            return 0
        case "approve":
            return _decide(args, approved=True)
        case _:
            return _decide(args, approved=False)
