"""32-bit against 64-bit index arithmetic in the offline engine's kernels, side by side on one GPU.

`prepare` (here, no GPU): for each problem of a campaign's report, the campaign's best engine-written
candidate is regenerated with its own configurations, as the engine writes it now (int32 indexing unless
an index or offset could pass int32). `measure` judges it as it is and with int64 forced (what the engine
wrote before: the file plus FORCE_INT64).

    python benchmarks/index_width/ab.py prepare --report benchmarks/campaign/results/report.json \
        --runs .campaign-state/runs --out benchmarks/index_width/candidates

`measure` (on the GPU): both forms of each problem judged side by side (`../side_by_side.py`) in the order
int64, int32, int32, int64, so drift during the run weighs on both; medians, ranges and their ratio.

    python benchmarks/index_width/ab.py measure --candidates benchmarks/index_width/candidates --out $OUT/ab
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.tools.offline.fusion import fuse
from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.module_source import module_source, read_configs
from kevolve.tools.offline.tracing import trace_reference

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: the shared side-by-side judge
from side_by_side import judge

FORCE_INT64 = "\n\n# Benchmark variant: every launch indexes in int64, as the engine did before.\n" \
              "_needs_int64 = lambda shape, *tensors: True  # noqa: E731\n"


def prepare(report: Path, runs: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for problem in json.loads(report.read_text())["problems"]:
        best = [device["best_node"] for device in problem["devices"] if device.get("best_node")]
        if not best or problem["run_id"] is None:
            continue
        configs = read_configs((runs / problem["run_id"] / "candidates" / f"{best[0]}.py").read_text())
        if configs is None:  # not written by the engine
            continue
        reference = (SUITE_DIR / f"{problem['name']}.py").read_text()
        source = module_source(reference, fuse(lower(trace_reference(reference))), configs, "index-width A/B")
        (out / f"{problem['name']}.py").write_text(source)
        print(f"{problem['name']}: {best[0]}")


def measure(candidates: Path, out: Path, only: list[str] | None, repeats: int) -> None:
    names = [file.stem for file in sorted(candidates.glob("*.py")) if not only or file.stem in only]
    forms = {"int64": lambda name: (candidates / f"{name}.py").read_text() + FORCE_INT64,
             "int32": lambda name: (candidates / f"{name}.py").read_text()}
    judge(names, forms, repeats=repeats, out=out, title="Offline-engine kernels: int32 against int64 index arithmetic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    prep = verbs.add_parser("prepare", help="write both forms of each problem's best candidate (no GPU)")
    prep.add_argument("--report", type=Path, required=True, help="a campaign's report.json")
    prep.add_argument("--runs", type=Path, required=True, help="that campaign's runs folder")
    prep.add_argument("--out", type=Path, required=True)
    meas = verbs.add_parser("measure", help="judge both forms on cuda:0")
    meas.add_argument("--candidates", type=Path, required=True)
    meas.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    meas.add_argument("--only", nargs="*", default=None, help="these problems only")
    meas.add_argument("--repeats", type=int, default=1, help="times the int64, int32, int32, int64 order is run")
    args = parser.parse_args()
    if args.verb == "prepare":
        prepare(args.report, args.runs, args.out)
    else:
        measure(args.candidates, args.out, args.only, args.repeats)


if __name__ == "__main__":
    main()
