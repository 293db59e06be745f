"""Re-times kernels with a timer that is not kevolve's: only torch, its CUDA events and an L2 flush.

For each problem with a candidate, in one precision regime, times the reference in eager mode, the
reference under torch.compile and the candidate, interleaved call by call (so drift weighs on all
three alike), each call after an L2 flush, over rotating input sets. Prints and writes medians, the
interquartile range and the ratios, plus the candidate's worst error against the reference as a
sanity check (a wrong kernel timed fast is no result). Imports nothing from kevolve on purpose.

    python benchmarks/regimes/independent_timer.py --problems eval_harness/problems \
        --candidates DIR --precision default --out results.json

DIR holds `<problem>.py` files defining `ModelNew`; or `<problem>/<variant>.py` files, several candidates of a
problem timed side by side in the same interleaved loop (write_variants.py writes them); or is a kevolve library
folder (`<problem>/<placement>/<node>.py`; the newest kernel of each problem is taken).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
from pathlib import Path
from types import ModuleType

import torch

REGIMES = {  # name -> (dtype, cuDNN TF32, float32 matmul precision); `default` keeps this process's flags
    "exact": (torch.float32, False, "highest"),
    "default": (torch.float32, None, None),
    "tf32": (torch.float32, True, "high"),
    "bf16": (torch.bfloat16, True, "highest"),
    "fp16": (torch.float16, True, "highest"),
}
L2_FLUSH_BYTES = 256 << 20
INPUT_SETS = 4


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Triton's JIT reads a kernel's source through its module
    spec.loader.exec_module(module)
    return module


def candidate_files(folder: Path) -> dict[str, list[Path]]:
    """Each problem's candidates (one, but for a folder of variants)."""
    flat = {path.stem: [path] for path in folder.glob("*.py")}
    if flat:
        return flat
    # A library is recognised by its records before variants are looked for: it also keeps each problem's
    # reference (`<problem>/reference-<hash>.py`) one level up, which is not a candidate.
    library: dict[str, list[Path]] = {}
    for record in sorted(folder.glob("*/*/*.json"), key=lambda p: p.stat().st_mtime):
        kernel = record.with_suffix(".py")
        if not record.name.endswith(".status.json") and kernel.is_file():
            library[record.parent.parent.name] = [kernel]
    if library:
        return library
    return {problem.name: sorted(problem.glob("*.py"), key=lambda p: (len(p.stem), p.stem))
            for problem in sorted(folder.iterdir()) if problem.is_dir() and any(problem.glob("*.py"))}


def place(value, dtype: torch.dtype):
    if isinstance(value, torch.Tensor):
        return value.to("cuda", dtype=dtype if value.is_floating_point() else value.dtype).contiguous()
    if isinstance(value, list | tuple):
        return type(value)(place(item, dtype) for item in value)
    return value


def build(cls: type, init_inputs: list, dtype: torch.dtype, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return cls(*init_inputs).to("cuda", dtype=dtype).eval()


def time_interleaved(calls: dict, input_sets: list, trials: int, idle_start: bool = False) -> dict[str, list[float]]:
    """`idle_start`: wait for the flush before each call, so the call's CPU-side launch work is inside its time (as
    kevolve's harness and KernelBench time); otherwise the launch overlaps the flush (as triton.testing.do_bench)."""
    flush = torch.empty(L2_FLUSH_BYTES // 4, dtype=torch.int32, device="cuda")
    samples: dict[str, list[float]] = {name: [] for name in calls}
    with torch.no_grad():
        for fn in calls.values():  # warm-up: compilation, autotuning and caches stay out of the figures
            for inputs in input_sets * 5:
                fn(*inputs)
        torch.cuda.synchronize()
        for trial in range(trials):
            inputs = input_sets[trial % len(input_sets)]
            for name, fn in calls.items():
                flush.zero_()
                if idle_start:
                    torch.cuda.synchronize()
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn(*inputs)
                end.record()
                end.synchronize()
                samples[name].append(start.elapsed_time(end))
    return samples


def summary(values: list[float]) -> dict[str, float]:
    q1, median, q3 = statistics.quantiles(values, n=4)
    return {"median_ms": median, "q1_ms": q1, "q3_ms": q3}


def worst_error(reference: torch.nn.Module, candidate: torch.nn.Module, inputs: list) -> float:
    with torch.no_grad():
        expected, got = reference(*inputs), candidate(*inputs)
    expected = expected if isinstance(expected, list | tuple) else [expected]
    got = got if isinstance(got, list | tuple) else [got]
    return max(float((e.double() - g.double()).abs().max()) for e, g in zip(expected, got, strict=True))


def measure(problem_path: Path, candidate_paths: list[Path], dtype: torch.dtype, trials: int,
            idle_start: bool) -> dict:
    problem = load_module(problem_path, f"problem_{problem_path.stem}")
    init_inputs = problem.get_init_inputs()
    reference = build(problem.Model, init_inputs, dtype, seed=0)
    input_sets = []
    for index in range(INPUT_SETS):
        torch.manual_seed(1000 + index)
        input_sets.append(place(list(problem.get_inputs()), dtype))
    calls = {"eager": reference, "compiled": torch.compile(reference)}
    errors: dict[str, float | str] = {}
    for path in candidate_paths:
        label = "candidate" if len(candidate_paths) == 1 else f"candidate {path.stem}"
        try:
            candidate = load_module(path, f"candidate_{problem_path.stem}_{path.stem}")
            kernel = build(candidate.ModelNew, init_inputs, dtype, seed=0)
            kernel.load_state_dict(reference.state_dict(), strict=False)
            errors[label] = worst_error(reference, kernel, input_sets[0])
            calls[label] = kernel
        except Exception as exc:  # one broken variant must not cost the others' figures
            errors[label] = f"{type(exc).__name__}: {exc}"[:300]
    samples = time_interleaved(calls, input_sets, trials, idle_start)
    stats = {name: summary(values) for name, values in samples.items()}
    row = {"problem": problem_path.stem, "candidates": [str(p) for p in candidate_paths], "worst_abs_error": errors,
           **stats}
    timed = [name for name in stats if name.startswith("candidate")]
    if timed:
        best = min(timed, key=lambda name: stats[name]["median_ms"])
        row.update(best=best, speedup_eager=stats["eager"]["median_ms"] / stats[best]["median_ms"],
                   speedup_compiled=stats["compiled"]["median_ms"] / stats[best]["median_ms"])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=Path, required=True)
    parser.add_argument("--candidates", type=Path, required=True)
    parser.add_argument("--precision", choices=list(REGIMES), default="default")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--only", nargs="*", default=None, help="these problems only")
    parser.add_argument("--idle-start", action="store_true",
                        help="synchronise after each L2 flush, so launch overhead counts (kevolve's harness does)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    dtype, cudnn_tf32, matmul = REGIMES[args.precision]
    if cudnn_tf32 is not None:
        torch.backends.cudnn.allow_tf32 = cudnn_tf32
        torch.set_float32_matmul_precision(matmul)
    regime = {"precision": args.precision, "dtype": str(dtype), "cudnn_tf32": torch.backends.cudnn.allow_tf32,
              "matmul_precision": torch.get_float32_matmul_precision(), "idle_start": args.idle_start}
    rows = []
    for name, paths in sorted(candidate_files(args.candidates).items()):
        if args.only and name not in args.only:
            continue
        try:
            row = measure(args.problems / f"{name}.py", paths, dtype, args.trials, args.idle_start)
        except Exception as exc:  # one broken problem must not cost the others' figures
            row = {"problem": name, "candidates": [str(p) for p in paths],
                   "error": f"{type(exc).__name__}: {exc}"[:500]}
        rows.append(row)
        print(json.dumps(row), flush=True)
        args.out.write_text(json.dumps({"regime": regime, "device": torch.cuda.get_device_name(),
                                        "torch": torch.__version__, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
