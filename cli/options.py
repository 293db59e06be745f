"""Options that `eval` and `bench` share, and the settings they build."""

from __future__ import annotations

import argparse
from pathlib import Path

from kevolve.eval_harness.precision import USER_DEFAULT, Precision, resolve
from kevolve.eval_harness.settings import EvalSettings, Policy, TimingSettings

AUTO_DEVICE = "auto"


class UsageError(Exception):
    """Bad input from the user: printed as one clear line, exit code 2."""


def add_evaluation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", default=AUTO_DEVICE,
        help="cuda:N or cpu (Triton's interpreter: correctness only); auto picks cuda:0 when there is one",
    )
    parser.add_argument(
        "--precision", choices=[p.value for p in Precision], default=USER_DEFAULT.value,
        help="the regime reference, baselines and candidate run in: exact (fp32, TF32 off), default (your PyTorch's "
             "TF32 flags as they are now), tf32, bf16 or fp16 (inputs and parameters in that dtype); "
             f"default: {USER_DEFAULT.value}",
    )
    # Superseded by --precision; kept only to tell the user so (settings_from).
    parser.add_argument("--dtype", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--policy", choices=[p.value for p in Policy], default=Policy.STRICT.value,
        help="strict: every computation in custom kernels; hybrid: vendor GEMM, convolution and fused attention "
             "may stay",
    )
    add_trial_options(parser)
    parser.add_argument("--seed", type=int, default=None, help="fix the seeds (default: fresh per evaluation)")
    parser.add_argument("--no-compile-baseline", action="store_true", help="skip the torch.compile baseline")
    add_cache_options(parser)


def add_trial_options(parser: argparse.ArgumentParser) -> None:
    """--trials and --timing-trials, defaulting to the harness's own settings."""
    defaults = EvalSettings()
    parser.add_argument("--trials", type=int, default=defaults.correctness_trials,
                        help=f"correctness trials (fresh seeds and inputs; default {defaults.correctness_trials})")
    parser.add_argument("--timing-trials", type=int, default=defaults.timing.trials,
                        help=f"at least this many timed calls (default {defaults.timing.trials})")


def add_cache_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true", help="re-measure baselines instead of reading the cache")
    parser.add_argument("--cache-dir", type=Path, default=None, help="baseline cache (default ~/.cache/kevolve)")


def resolve_device(device: str) -> str:
    if device != AUTO_DEVICE:
        return device
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def settings_from(args: argparse.Namespace, *, precision: Precision | None = None) -> EvalSettings:
    """The evaluation settings the options ask for; `precision`, when given, in place of --precision."""
    if args.trials < 1 or args.timing_trials < 5:
        raise UsageError("--trials must be at least 1 and --timing-trials at least 5")
    if args.dtype is not None:
        raise UsageError("--dtype is replaced by --precision: bf16 or fp16 for half-precision inputs and parameters, "
                         "exact for float32 with TF32 off")
    return EvalSettings(
        # `default` is read here, from the user's own PyTorch flags, never again in a worker or on resume.
        math=resolve(precision or Precision(args.precision)),
        policy=Policy(args.policy),
        correctness_trials=args.trials,
        seed=args.seed,
        measure_compile_baseline=not args.no_compile_baseline,
        timing=TimingSettings(trials=args.timing_trials, min_trials_when_slow=min(20, args.timing_trials)),
    )
