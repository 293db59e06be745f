"""End-to-end time of a small model built from exported library ops: eager vs torch.compile vs kernels.

    python benchmarks/library_export/run_library_export.py --library kevolve-library --out results/
    python benchmarks/library_export/run_library_export.py --package-dir kevolve-export --package kevolve_kernels

The model chains one block per exported problem (or the ones named with --problems): each block is
the problem's module built with its own get_init_inputs() and fed its own get_inputs() (the default
configuration, which is what a GPU run verifies); where the previous block's output has exactly the
shape and dtype of a block's first input, the output is fed instead, so those blocks really chain.
Four variants of the same model, with the same weights, are timed:

    eager            the reference modules
    compiled         torch.compile of the reference modules
    exported         the exported modules (each forward calls its kevolve_lib op)
    exported+compile torch.compile(fullgraph=True) of the exported modules

Timing: CUDA events around each call of the whole model, after warm-up calls (the first timings of a
compiled function are far slower: see FACTS.md), `--repeats` samples per variant, median, quartiles
and min reported; L2 is not flushed between calls (a model's own blocks reuse it) and no CUDA
graphs are used. It needs torch and Triton; exporting from a library also needs kevolve's wheel
(with pydantic), and an existing export (--package-dir) needs nothing else.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

VARIANTS = ("eager", "compiled", "exported", "exported+compile")


@dataclass
class Timing:
    median_ms: float
    q1_ms: float
    q3_ms: float
    min_ms: float
    samples: int


class Chain(nn.Module):
    """Blocks run in order; a block takes the previous output where it matches its first input."""

    def __init__(self, blocks: list[nn.Module], inputs: list[list[torch.Tensor]], links: list[bool]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.inputs = inputs
        self.links = links

    def forward(self) -> list[torch.Tensor]:
        outputs, previous = [], None
        for block, own, linked in zip(self.blocks, self.inputs, self.links, strict=True):
            args = [previous, *own[1:]] if linked else own
            previous = block(*args)
            outputs.append(previous)
        return outputs


def export_package(library: Path, to: Path, package: str) -> None:
    from kevolve.tools.kernel_library.export import export_library

    manifest = export_library(library, to, package=package)
    for skipped in manifest.skipped:
        print(f"skipped {skipped.problem} {skipped.node_id or ''}: {skipped.reason}", file=sys.stderr)


def _blocks(package: str, names: list[str], device: torch.device):
    """(exported module, reference module with the same weights, inputs) per problem."""
    built = []
    for name in names:
        problem = importlib.import_module(f"{package}.{name}")
        init = list(problem.reference.get_init_inputs())
        torch.manual_seed(0)
        with device:
            exported = problem.Model(*init)
            reference = problem.reference.Model(*init)
            inputs = [t.contiguous() for t in problem.reference.get_inputs()]
        reference.load_state_dict(exported.state_dict())
        built.append((name, exported.eval(), reference.eval(), inputs))
    return built


def _links(inputs: list[list[torch.Tensor]], outputs: list[torch.Tensor]) -> list[bool]:
    links = [False]
    for previous, own in zip(outputs, inputs[1:], strict=False):
        links.append(isinstance(previous, torch.Tensor) and own[0].shape == previous.shape
                     and own[0].dtype == previous.dtype)
    return links


def time_model(model, *, warmup: int, repeats: int) -> Timing:
    for _ in range(warmup):
        model()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        model()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return Timing(statistics.median(samples), q1, q3, min(samples), len(samples))


def _as_list(output) -> list[torch.Tensor]:
    return [output] if isinstance(output, torch.Tensor) else list(output)


def _max_difference(got, want) -> float:
    return max(float((g.float() - w.float()).abs().max()) for g, w in zip(_as_list(got), _as_list(want), strict=True))


def environment(device: torch.device) -> dict:
    try:
        driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        driver = None
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = None
    return {"device": torch.cuda.get_device_name(device), "driver": driver, "cuda": torch.version.cuda,
            "torch": torch.__version__, "triton": triton_version, "python": platform.python_version()}


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        "# Exported library ops, end to end",
        "",
        f"{env['device']}, driver {env['driver']}, CUDA {env['cuda']}, torch {env['torch']}, "
        f"Triton {env['triton']}, Python {env['python']}.",
        f"Model: {' -> '.join(b['problem'] + ('' if b['chained'] else ' (own input)') for b in report['blocks'])}.",
        f"{report['repeats']} timed calls per variant after {report['warmup']} warm-up calls; CUDA events; "
        "L2 not flushed; no CUDA graphs.",
        "",
        "| variant | median ms | q1-q3 ms | min ms | eager / variant | compiled / variant |",
        "|---|---|---|---|---|---|",
    ]
    eager, compiled = report["timings"]["eager"]["median_ms"], report["timings"]["compiled"]["median_ms"]
    for variant in VARIANTS:
        t = report["timings"][variant]
        lines.append(f"| {variant} | {t['median_ms']:.4f} | {t['q1_ms']:.4f}-{t['q3_ms']:.4f} | {t['min_ms']:.4f} "
                     f"| {eager / t['median_ms']:.2f}x | {compiled / t['median_ms']:.2f}x |")
    lines += ["", "| block | served by (one exported call) | max abs difference vs reference |", "|---|---|---|"]
    for block in report["blocks"]:
        lines.append(f"| {block['problem']} | {block['served_by']} | {block['max_abs_difference']:.3g} |")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict:
    if not torch.cuda.is_available():
        raise SystemExit("needs a CUDA GPU: CPU timings (Triton's interpreter) say nothing about speed")
    device = torch.device("cuda:0")
    if args.library is not None:
        export_package(args.library, args.package_dir, args.package)
    sys.path.insert(0, str(args.package_dir))
    package = importlib.import_module(args.package)
    names = args.problems.split(",") if args.problems else list(package.PROBLEMS)
    torch.set_grad_enabled(False)
    built = _blocks(args.package, names, device)
    inputs = [b[3] for b in built]
    probe = Chain([b[2] for b in built], inputs, [False] * len(built))()
    links = _links(inputs, probe)
    reference = Chain([b[2] for b in built], inputs, links)
    exported = Chain([b[1] for b in built], inputs, links)
    want = reference()
    package.reset_counts()
    got = exported()
    served = package.dispatch_counts()
    blocks = [{"problem": name, "chained": link, "served_by": ", ".join(served.get(name, {})) or "nothing",
               "max_abs_difference": _max_difference(g, w)}
              for (name, *_), link, g, w in zip(built, links, got, want, strict=True)]
    variants = {"eager": reference, "compiled": torch.compile(reference),
                "exported": exported, "exported+compile": torch.compile(exported, fullgraph=True)}
    timings = {name: asdict(time_model(model, warmup=args.warmup, repeats=args.repeats))
               for name, model in variants.items()}
    return {"environment": environment(device), "blocks": blocks, "timings": timings,
            "warmup": args.warmup, "repeats": args.repeats, "dispatch_counts": package.dispatch_counts()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=None, help="export this library first (needs kevolve)")
    parser.add_argument("--package-dir", type=Path, default=Path("kevolve-export"), help="where the export lives")
    parser.add_argument("--package", default="kevolve_kernels")
    parser.add_argument("--problems", default=None, help="comma-separated problem modules, in chain order")
    parser.add_argument("--warmup", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("library-export-results"))
    args = parser.parse_args()
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "library_export.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "library_export.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
