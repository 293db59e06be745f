"""Writes the offline engine's first candidates for each problem, one file per candidate, for a side-by-side sweep.

A campaign times what its search reaches within its budget; this writes what the engine would propose first
(every schedule's defaults in the cost model's order, then the launch-setting walk from the first) so that the
independent timer can time them all against eager and torch.compile in one interleaved loop, on the GPU, without
kevolve there. Runs on any machine (tracing is on the meta device or the CPU):

    python benchmarks/regimes/write_variants.py --precision bf16 --count 8 --out variants/bf16 \
        eval_harness/problems/fusion_conv2d_gelu_avgpool.py ...

Writes DIR/<problem>/<index>.py, each with a header comment naming its schedule and launch settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kevolve.eval_harness.precision import Precision, resolve
from kevolve.tools.offline.engine import OfflineEngine


def write_variants(engine: OfflineEngine, problem: Path, precision: Precision, policy: str, count: int,
                   out: Path) -> list[str]:
    reference = problem.read_text()
    mode = resolve(precision)
    design = engine.design(reference, policy, mode)
    if not design.supported:
        return [f"{problem.stem}: {design.describe()}"]
    folder = out / problem.stem
    folder.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    notes = []
    for index in range(count):
        proposal = engine.propose(reference, policy, [], seen, mode)
        if proposal is None:
            break
        seen.add(proposal.source)
        (folder / f"{index}.py").write_text(f"# {proposal.notes}\n{proposal.source}")
        notes.append(f"{problem.stem}/{index}: {proposal.notes}")
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="+", type=Path)
    parser.add_argument("--precision", type=Precision, default=Precision.DEFAULT)
    parser.add_argument("--policy", default="hybrid")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    engine = OfflineEngine()
    for problem in args.problems:
        for line in write_variants(engine, problem, args.precision, args.policy, args.count, args.out):
            print(line, flush=True)


if __name__ == "__main__":
    main()
