"""`kevolve bench [DIR]`: a whole suite, with a progress bar, a JSON report and a markdown table."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.problem import load_problems
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.eval_harness.suite import BenchReport, BenchRun, ProblemRecord

from .console import console, error_console
from .options import UsageError, add_evaluation_options, resolve_device, settings_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "suite", type=Path, nargs="?", default=SUITE_DIR,
        help="a folder of problems (a KernelBench level folder works as it is); default: kevolve's suite",
    )
    parser.add_argument("--candidates", type=Path, default=None,
                        help="a folder of candidates, each named like its problem file")
    parser.add_argument("--baselines-only", action="store_true", help="measure the references only")
    parser.add_argument("--out", type=Path, default=Path("kevolve-out/bench.json"),
                        help="JSON report; the markdown table goes beside it (.md)")
    parser.add_argument("--only", nargs="*", default=None, help="only these problem names")
    add_evaluation_options(parser)
    parser.set_defaults(run=run)


def _status_line(record: ProblemRecord) -> str:
    reference = record.reference
    if reference.error is not None:
        return f"[red]{record.problem}: reference {reference.error.kind.value}[/]"
    eager = reference.baselines.eager.median_ms if reference.baselines and reference.baselines.eager else None
    line = f"{record.problem}: eager {eager:.4g} ms" if eager is not None else record.problem
    if record.candidate is not None:
        verdict = record.candidate.status.value
        if record.candidate.error is not None:
            verdict += f" ({record.candidate.error.kind.value})"
        speedup = record.candidate.speedup_over("eager")
        line += f", candidate {verdict}" + (f", {speedup:.2f}x vs eager" if speedup else "")
    return line


def run(args: argparse.Namespace) -> int:
    problems = load_problems(args.suite)
    if args.only:
        unknown = set(args.only) - {p.name for p in problems}
        if unknown:
            raise UsageError(f"no such problems in {args.suite}: {', '.join(sorted(unknown))}")
        problems = [p for p in problems if p.name in set(args.only)]
    if args.candidates is not None and not args.candidates.is_dir():
        raise UsageError(f"{args.candidates}: no such candidates folder")
    candidates = None if args.baselines_only else args.candidates
    args.out.parent.mkdir(parents=True, exist_ok=True)
    markdown = args.out.with_suffix(".md")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    settings = settings_from(args)
    console.print(f"precision regime: {settings.math.label}", highlight=False)
    with (
        Evaluator(resolve_device(args.device), settings=settings, cache_dir=args.cache_dir,
                  use_baseline_cache=not args.no_cache) as evaluator,
        Progress(*columns, console=error_console) as progress,
    ):
        bench = BenchRun(evaluator, suite=str(args.suite), candidates_dir=candidates)
        task = progress.add_task("bench", total=len(problems))
        for problem in problems:
            record = bench.run_problem(problem)
            # Written after every problem: an interrupted or killed run keeps what it measured.
            _write(bench.report(complete=False), args.out, markdown)
            progress.console.print(_status_line(record), highlight=False)
            progress.advance(task)
        report = bench.report(complete=True)
    _write(report, args.out, markdown)
    console.print(f"wrote {args.out} and {markdown}")
    failed_references = [r.problem for r in report.records if r.reference.error is not None]
    if failed_references:
        names = ", ".join(failed_references)
        error_console.print(f"[red]{len(failed_references)} reference(s) could not run:[/] {names}")
        return 1
    return 0


def _write(report: BenchReport, out: Path, markdown: Path) -> None:
    out.write_text(report.model_dump_json(indent=1))
    # Imported here: it loads PyTorch, which `kevolve bench --help` and an argument error must not wait for.
    from kevolve.eval_harness.report import render_markdown

    markdown.write_text(render_markdown(report))
