"""`kevolve profile PROBLEM [--candidate FILE]`: where the time goes, and how far from the floor."""

from __future__ import annotations

import argparse
from pathlib import Path

from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.ncu import profile_with_ncu
from kevolve.eval_harness.precision import MathMode
from kevolve.eval_harness.problem import load_problem
from kevolve.eval_harness.profile_summary import render_profile_summary
from kevolve.eval_harness.results import Environment, NcuReport

from .console import console
from .options import UsageError, add_evaluation_options, resolve_device, settings_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("problem", type=Path, help="a problem file in KernelBench's format")
    parser.add_argument("--candidate", type=Path, default=None, help="a file defining class ModelNew")
    parser.add_argument("--out", type=Path, default=Path("kevolve-out/profiles"),
                        help="where the full data goes: result JSON, profiler traces, ncu reports")
    parser.add_argument("--no-ncu", action="store_true", help="skip Nsight Compute's hardware counters")
    add_evaluation_options(parser)
    parser.set_defaults(run=run)


def _hardware_counters(args: argparse.Namespace, environment: Environment | None, math: MathMode) -> NcuReport:
    if args.no_ncu:
        return NcuReport(available=False, reason="skipped (--no-ncu)")
    if environment is None or not environment.device.startswith("cuda"):
        return NcuReport(available=False, reason="no GPU: Nsight Compute reads counters of a CUDA device")
    return profile_with_ncu(
        args.problem,
        args.candidate,
        config="default",
        math=math,
        device_index=int(environment.device.partition(":")[2] or 0),
        out_dir=args.out / "ncu",
    )


def run(args: argparse.Namespace) -> int:
    problem = load_problem(args.problem)
    if args.candidate is not None and not args.candidate.is_file():
        raise UsageError(f"{args.candidate}: no such candidate file")
    args.out.mkdir(parents=True, exist_ok=True)
    with Evaluator(resolve_device(args.device), settings=settings_from(args), cache_dir=args.cache_dir,
                   use_baseline_cache=False, artifacts_dir=args.out) as evaluator:
        if args.candidate is None:
            result = evaluator.baselines(problem)
        else:
            result = evaluator.evaluate(problem, args.candidate.read_text(), name=args.candidate.stem)
    result = result.model_copy(update={"ncu": _hardware_counters(args, result.environment, result.math)})
    label = args.candidate.stem if args.candidate else "reference"
    result_file = args.out / f"{problem.name}-{label}.json"
    result_file.write_text(result.model_dump_json(indent=1))
    console.print(render_profile_summary(result), markup=False, highlight=False, soft_wrap=True)
    console.print(f"full data: {result_file}", style="dim", soft_wrap=True)
    return 0 if result.accepted else 1
