"""Harness throughput: seconds per candidate evaluation in a warm worker.

Each candidate is evaluated `--repeats` times in the same worker, baselines given (as a search
does once a problem's baselines are known). The first evaluation pays Triton's compilation; the
later ones are what a search pays per candidate. Run on the GPU box:

    python benchmarks/harness_throughput.py --candidates benchmarks/candidates --out throughput.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from kevolve.eval_harness import EvalSettings, Evaluator, load_problem
from kevolve.eval_harness.problems import SUITE_DIR


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=Path, required=True)
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = []
    with Evaluator(args.device, settings=EvalSettings()) as evaluator:
        for candidate in sorted(args.candidates.glob("*.py")):
            problem = load_problem(SUITE_DIR / candidate.name)
            baselines = evaluator.baselines(problem).baselines
            seconds, statuses = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                result = evaluator.evaluate(problem, candidate.read_text(), name=problem.name, baselines=baselines)
                seconds.append(time.perf_counter() - started)
                statuses.append(result.status.value)
            rows.append({
                "problem": problem.name,
                "statuses": statuses,
                "first_seconds": seconds[0],
                "warm_seconds": seconds[1:],
                "warm_median_seconds": statistics.median(seconds[1:]) if len(seconds) > 1 else None,
                "stage_seconds_last": result.stage_seconds,
                "environment": result.environment.model_dump() if result.environment else None,
            })
            print(f"{problem.name}: first {seconds[0]:.2f} s, warm {[round(s, 2) for s in seconds[1:]]}", flush=True)
    warm = [s for row in rows for s in row["warm_seconds"]]
    summary = {"rows": rows, "warm_median_seconds_all": statistics.median(warm) if warm else None}
    args.out.write_text(json.dumps(summary, indent=1))
    print(f"warm median over all candidates: {summary['warm_median_seconds_all']}")


if __name__ == "__main__":
    main()
