"""32-bit against 64-bit index arithmetic in the offline engine's kernels, side by side on one GPU.

`prepare` (here, no GPU): for each problem of a campaign's report, the campaign's best engine-written
candidate is regenerated with its own configurations, as the engine writes it now (int32 indexing unless
an index or offset could pass int32). `measure` judges it as it is and with int64 forced (what the engine
wrote before: the file plus FORCE_INT64).

    python benchmarks/index_width/ab.py prepare --report benchmarks/campaign/results/report.json \
        --runs .campaign-state/runs --out benchmarks/index_width/candidates

`measure` (on the GPU): both forms of each problem judged by the harness in one worker, in the order
int64, int32, int32, int64, so drift during the run weighs on both; medians and their ratio.

    python benchmarks/index_width/ab.py measure --candidates benchmarks/index_width/candidates --out $OUT/ab
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from kevolve.eval_harness import EvalSettings, Evaluator, load_problem
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.eval_harness.settings import Policy
from kevolve.tools.offline.fusion import fuse
from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.module_source import module_source, read_configs
from kevolve.tools.offline.tracing import trace_reference

FORCE_INT64 = "\n\n# Benchmark variant: every launch indexes in int64, as the engine did before.\n" \
              "_needs_int64 = lambda shape, *tensors: True  # noqa: E731\n"
ORDER = ("int64", "int32", "int32", "int64")


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
    rows = []
    # hybrid, as the campaign that wrote the candidates: its fusions keep cuBLAS/cuDNN for the GEMM or convolution.
    settings = EvalSettings(policy=Policy.HYBRID, measure_compile_baseline=False)
    with Evaluator("cuda:0", settings=settings) as evaluator:
        for file in sorted(candidates.glob("*.py")):
            name = file.stem
            if only and name not in only:
                continue
            problem = load_problem(SUITE_DIR / f"{name}.py")
            baselines = evaluator.baselines(problem).baselines
            medians: dict[str, list[float]] = {"int32": [], "int64": []}
            statuses, failures = set(), []
            forms = {"int32": file.read_text(), "int64": file.read_text() + FORCE_INT64}
            for form in ORDER * repeats:
                source = forms[form]
                result = evaluator.evaluate(problem, source, name=f"{name}-{form}", baselines=baselines)
                statuses.add(result.status.value)
                if result.timing is not None:
                    medians[form].append(result.timing.median_ms)
                if result.error is not None:
                    failures.append(f"{form}: {result.error.message[:400]}")
            row = {"problem": name, "statuses": sorted(statuses), "failures": failures, "median_ms": medians,
                   "eager_ms": baselines.eager.median_ms if baselines and baselines.eager else None,
                   "environment": result.environment.model_dump(mode="json") if result.environment else None}
            if all(medians.values()):
                row["int64_over_int32"] = statistics.median(medians["int64"]) / statistics.median(medians["int32"])
            rows.append(row)
            print(f"{name}: {row.get('int64_over_int32')} {sorted(statuses)}", flush=True)
            # After every problem: a run cut short by its time limit still leaves what it measured.
            out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
            out.with_suffix(".md").write_text(markdown(rows))
    print(markdown(rows))


def markdown(rows: list[dict]) -> str:
    env = next((row["environment"] for row in rows if row["environment"]), None) or {}
    lines = ["# Offline-engine kernels: int32 against int64 index arithmetic", "",
             f"Device {env.get('device_name')}, driver {env.get('driver_version')}, torch {env.get('torch_version')}, "
             f"Triton {env.get('triton_version')}. Each form judged in the order int64, int32, int32, int64, "
             "repeated; the median of its harness medians and their range.", "",
             "| problem | int64 (ms) | int32 (ms) | int64 / int32 | eager (ms) | int32 over eager | statuses |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        spread = {f: _spread(row["median_ms"][f]) for f in ("int64", "int32")}
        narrow = statistics.median(row["median_ms"]["int32"]) if row["median_ms"]["int32"] else None
        ratio = row.get("int64_over_int32")
        over_eager = row["eager_ms"] / narrow if row["eager_ms"] and narrow else None
        cells = [spread["int64"], spread["int32"],
                 *(f"{v:.4g}" if v is not None else "n/a" for v in (ratio, row["eager_ms"], over_eager))]
        lines.append(f"| {row['problem']} | " + " | ".join(cells) + f" | {', '.join(row['statuses'])} |")
    ratios = [row["int64_over_int32"] for row in rows if row.get("int64_over_int32")]
    if ratios:
        geomean = statistics.geometric_mean(ratios)
        lines += ["", f"Geometric mean of int64 / int32 over {len(ratios)} problems: **{geomean:.3f}x**."]
    return "\n".join(lines) + "\n"


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):.4g} ({min(values):.4g} to {max(values):.4g})"


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
