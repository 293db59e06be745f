"""The program Nsight Compute profiles: one problem configuration, one model, one marked forward.

    python -m kevolve.eval_harness.ncu_target --problem FILE (--candidate FILE | --reference)
        [--config NAME] [--math MATHMODE_JSON] [--seed N] [--warmup K] [--device cuda:N|cpu]

The model (the candidate's `ModelNew` or the problem's `Model`) and its inputs are built exactly as
the worker builds them (`LoadedProblem`, seeded construction), `warmup` forwards run first (so
Triton's compilation and PyTorch's lazy setup happen outside the profile), then exactly one forward
runs inside the NVTX range `kevolve_profiled`: `ncu --nvtx --nvtx-include kevolve_profiled/` then
profiles that forward's kernels and nothing else.

Without CUDA (`--device cpu`, or no GPU with the default `auto`) it runs the same steps with no
NVTX range, which is how the tests check it. Exit codes: 0 done; 1 the problem or the candidate
failed (the message is printed); 2 bad arguments; 3 a CUDA device was asked for and there is none.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

import torch

from .failures import StageFailure
from .instances import LoadedProblem, call_model, load_candidate_class
from .ncu import EXIT_NO_GPU, NVTX_RANGE
from .precision import MathMode, Precision, apply, resolve
from .problem import DEFAULT_CONFIG, ProblemLoadError, load_problem

EXIT_FAILED = 1


def _device(text: str) -> torch.device | None:
    """The device to run on; None when CUDA is asked for but absent."""
    if text == "auto":
        return torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(text)
    if device.type == "cuda":
        if not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count():
            return None
        return torch.device("cuda", device.index or 0)
    return device


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(args: argparse.Namespace) -> int:
    device = _device(args.device)
    if device is None:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        print(f"kevolve ncu_target: no GPU: {args.device} asked for, {count} CUDA device(s) here", file=sys.stderr)
        return EXIT_NO_GPU
    if device.type == "cuda":
        torch.cuda.set_device(device)
    mode = MathMode.model_validate_json(args.math)
    apply(mode)  # the regime the evaluation ran in, as the worker applies it
    problem = load_problem(args.problem)
    with tempfile.TemporaryDirectory(prefix="kevolve-ncu-") as workdir:
        loaded = LoadedProblem(problem, device, getattr(torch, mode.dtype.value), Path(workdir))
        instance = loaded.instance(args.config)
        if args.reference:
            model = instance.reference(args.seed)
        else:
            candidate = Path(args.candidate)
            candidate_cls = load_candidate_class(candidate.read_text(), name=candidate.stem, workdir=Path(workdir))
            model = instance.candidate(candidate_cls, args.seed)
        inputs = instance.inputs(args.seed)
        for _ in range(args.warmup):
            call_model(model, inputs)
        _synchronize(device)
        marker = torch.cuda.nvtx.range(NVTX_RANGE) if device.type == "cuda" else contextlib.nullcontext()
        with marker:
            call_model(model, inputs)
            _synchronize(device)
    which = "reference" if args.reference else f"candidate {args.candidate}"
    print(f"kevolve ncu_target: profiled one forward of the {which} on {device} ({problem.name}, {args.config})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kevolve-ncu-target", description=__doc__.splitlines()[0])
    parser.add_argument("--problem", required=True, help="problem file (KernelBench format)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--candidate", help="candidate file defining ModelNew")
    which.add_argument("--reference", action="store_true", help="profile the problem's own Model")
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--math", default=resolve(Precision.EXACT).model_dump_json(),
                        help="the precision regime as a MathMode's JSON (default: exact)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=3, help="forwards before the profiled one")
    parser.add_argument("--device", default="auto", help="cuda:N, cpu, or auto (cuda:0 when there is one)")
    args = parser.parse_args(argv)
    if args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    try:
        return run(args)
    except (ProblemLoadError, KeyError, OSError, ValueError) as exc:
        print(f"kevolve ncu_target: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except StageFailure as failure:
        print(f"kevolve ncu_target: {failure.kind.value} at {failure.stage.value}: {failure.message}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
