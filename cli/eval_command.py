"""`kevolve eval PROBLEM --candidate FILE`: one verdict, in the terminal or as JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table
from rich.text import Text

from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.problem import load_problem
from kevolve.eval_harness.results import EvalResult, TimingStats

from .console import console, shown
from .options import UsageError, add_evaluation_options, resolve_device, settings_from

# Correct is not enough: a result held for review, or with error-level findings, is not accepted.
EXIT_NOT_ACCEPTED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("problem", type=Path, help="a problem file in KernelBench's format")
    parser.add_argument("--candidate", type=Path, required=True, help="a file defining class ModelNew")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_evaluation_options(parser)
    parser.set_defaults(run=run)


def _timing_cell(stats: TimingStats | None) -> str:
    if stats is None:
        return "-"
    spread = f"q1 {stats.q1_ms:.4g}, q3 {stats.q3_ms:.4g}, min {stats.min_ms:.4g}, n={stats.trials}"
    return f"{stats.median_ms:.4g} ms  ({spread})"


def render_result(result: EvalResult) -> None:
    color = {"correct": "green", "incorrect": "red", "error": "red"}[result.status.value]
    console.print(Text.assemble(shown(result.problem, "bold"), ": ", (result.status.value, f"bold {color}")))
    if result.error is not None:
        console.print(f"  {result.error.kind.value} during {result.error.stage.value}", style="red")
        console.print(result.error.message, markup=False, highlight=False)
        if result.error.output_tail:
            console.print("  worker output (tail):", style="dim")
            console.print(result.error.output_tail, markup=False, highlight=False, style="dim")
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("precision", f"{result.math.label}: reference, baselines and candidate alike")
    env = result.environment
    if env is not None:
        table.add_row("device", f"{env.device_name} ({env.device}), spec {env.hardware_spec}")
        versions = f"torch {env.torch_version}, triton {env.triton_version}, driver {env.driver_version}"
        table.add_row("versions", versions)
        if env.note:
            table.add_row("hardware", env.note)
    if result.correctness is not None:
        c = result.correctness
        table.add_row(
            "correctness",
            f"{sum(t.passed for t in c.trials)}/{len(c.trials)} trials passed on {', '.join(c.configs_checked)}; "
            f"worst abs {c.worst_abs_error}, worst rel {c.worst_rel_error} "
            f"(atol {c.tolerance.atol}, rtol {c.tolerance.rtol})",
        )
    table.add_row("candidate", _timing_cell(result.timing))
    if result.baselines is not None:
        table.add_row("eager", _timing_cell(result.baselines.eager))
        table.add_row("torch.compile", _timing_cell(result.baselines.compiled)
                      if result.baselines.compiled else result.baselines.compile_skipped_reason or "-")
    for comparison in result.comparisons:
        table.add_row(
            f"vs {comparison.baseline}",
            f"{comparison.speedup:.3f}x (95% CI {comparison.ci_low:.3f}-{comparison.ci_high:.3f}): "
            f"{comparison.verdict}",
        )
    if env is not None and not env.timing_meaningful:
        table.add_row("note", "timings on the CPU interpreter are not meaningful; no speedups are reported")
    for flag in result.flags:
        table.add_row("flag", flag)
    for finding in result.findings:
        table.add_row(f"{finding.severity.value}", f"line {finding.line}: {finding.rule}: {finding.reason}")
    for reason in result.review_required:
        table.add_row("held for review", reason)
    if result.percent_of_light is not None:
        bound = result.speed_of_light.bound if result.speed_of_light else "?"
        table.add_row("speed of light", f"{result.percent_of_light:.1f}% of the {bound}-bound floor")
    console.print(table)


def run(args: argparse.Namespace) -> int:
    problem = load_problem(args.problem)
    if not args.candidate.is_file():
        raise UsageError(f"{args.candidate}: no such candidate file")
    source = args.candidate.read_text()
    with Evaluator(resolve_device(args.device), settings=settings_from(args), cache_dir=args.cache_dir,
                   use_baseline_cache=not args.no_cache) as evaluator:
        result = evaluator.evaluate(problem, source, name=args.candidate.stem)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        render_result(result)
    return 0 if result.accepted else EXIT_NOT_ACCEPTED
