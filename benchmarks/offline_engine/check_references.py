"""Every schedule the offline engine offers for each reference in a folder, checked against PyTorch on the CPU.

    TRITON_INTERPRET=1 python benchmarks/offline_engine/check_references.py FOLDER [--policy hybrid]

For references the engine has never seen (a folder of KernelBench-format files: `Model`, `get_inputs`,
`get_init_inputs`): traces each, writes the module of every schedule it would offer with default launch settings,
runs it beside the reference at the reference's own inputs (in Triton's interpreter: keep them small) and prints
one line per schedule: ok, wrong (with the worst difference), failed (with the error), or why no kernel is
written. Exits 1 when any written module is wrong or fails. This is how the session of 2026-12-07 found that a
window-form average pool divided by its taps without parentheses; the harness would have refused those candidates,
and this finds such a bug without a GPU or a search.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import torch

from kevolve.eval_harness.module_loader import module_from_source
from kevolve.tools.offline.configs import default_config
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.regime import EXACT
from kevolve.tools.offline.schedules import PLAIN, alternatives, build
from kevolve.tools.offline.tracing import trace_reference

SM_COUNT = 132  # an H100's: which schedules are offered depends on the device's size
TOLERANCE = 1e-4


def outputs(module: ModuleType, cls: str, init: list, inputs: list) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = getattr(module, cls)(*init)
    with torch.no_grad():
        result = model(*[x.clone() if isinstance(x, torch.Tensor) else x for x in inputs])
    return list(result) if isinstance(result, tuple | list) else [result]


def worst_difference(expected: list[torch.Tensor], got: list[torch.Tensor]) -> str | None:
    """None where every output matches PyTorch's within the exact regime's tolerance (NaN where PyTorch has NaN)."""
    if len(expected) != len(got):
        return f"{len(got)} outputs where the reference has {len(expected)}"
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        try:
            torch.testing.assert_close(have, want, atol=TOLERANCE, rtol=TOLERANCE, equal_nan=True)
        except AssertionError as exc:
            return f"output {index}: {str(exc).splitlines()[0]} {' '.join(str(exc).split()[-12:])}"
    return None


def check(path: Path, policy: str, folder: Path) -> list[tuple[str, str]]:
    """(schedule, verdict) for each schedule of `path`'s reference."""
    source = path.read_text()
    try:
        traced = trace_reference(source)
        plain = build(traced, policy, PLAIN)
    except Exception as exc:  # a reference the engine cannot follow: that is the line to print
        return [("-", f"no kernel: {type(exc).__name__}: {str(exc)[:160]}")]
    if plain.program.unsupported:
        return [("-", f"no kernel: unsupported {', '.join(plain.program.unsupported)}")]
    reference = module_from_source(source, stem=f"reference_{path.stem}", workdir=folder)
    init, inputs = list(reference.get_init_inputs()), list(reference.get_inputs())
    expected = outputs(reference, "Model", init, inputs)
    verdicts = []
    for index, (schedule, fused) in enumerate([(PLAIN, plain), *alternatives(traced, policy, plain, SM_COUNT).items()]):
        configs = {group.name: default_config(group) for group in fused.groups}
        try:
            generated = module_from_source(module_source(source, fused, configs, "check", EXACT, schedule),
                                           stem=f"generated_{path.stem}_{index}", workdir=folder)
            wrong = worst_difference(expected, outputs(generated, "ModelNew", init, inputs))
            verdict = f"wrong: {wrong}" if wrong else f"ok, {len(fused.groups)} kernels"
        except Exception as exc:  # one failing schedule must not hide the others
            verdict = f"failed: {type(exc).__name__}: {str(exc)[:160]}"
        verdicts.append((schedule.label, verdict))
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--policy", choices=["hybrid", "strict"], default="hybrid")
    args = parser.parse_args()
    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder of reference files", file=sys.stderr)
        return 2
    bad = 0
    with tempfile.TemporaryDirectory() as scratch:
        for path in sorted(args.folder.glob("*.py")):
            for schedule, verdict in check(path, args.policy, Path(scratch)):
                print(f"{path.stem}: {schedule}: {verdict}", flush=True)
                bad += verdict.startswith(("wrong", "failed"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
