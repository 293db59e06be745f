"""Figures for the offline engine's suite run, from the runs the harness recorded.

    python benchmarks/offline_engine/summarize.py EXTRACTED_DIR [--out results/DATE-DEVICE]

EXTRACTED_DIR holds `runs/<problem>/<run id>/` as run_suite.sh archived them. Per problem: the best
accepted candidate's speedups over eager and torch.compile (ratio of medians and the 95% interval's
lower end), its % of speed-of-light, how many candidates and rounds the search took and its wall
time. Per group: fast_1 against each baseline (the harness's verdict: faster at its confidence level
with a 2% margin) and geometric means, where a problem with no accepted candidate counts as 1.0 (the
reference is what would ship).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

from kevolve.eval_harness.problem import Problem, load_problem_dir
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.eval_harness.results import EvalResult

GROUPS = {"fusion": "fusions", "block": "blocks", "recsys": "recommendation operators"}
MEMORY_BOUND = {"elementwise", "reduction", "softmax", "norm", "scan", "loss", "pool"}


def _best(results: list[EvalResult]) -> EvalResult | None:
    accepted = [r for r in results if r.accepted and r.fitness is not None]
    return max(accepted, key=lambda r: r.fitness, default=None)


def _problem_row(problem: Problem, run: Path | None, design: dict | None) -> dict:
    name, category = problem.name, problem.category or "other"
    row: dict = {"problem": name, "category": category, "group": GROUPS.get(category, "single operators")}
    if run is None and design is not None and not design["supported"]:
        return row | {"candidates": 0, "note": f"not run: {design['reason']}"}
    if run is None:
        return row | {"candidates": 0, "note": "not run on the GPU"}
    results = [EvalResult.model_validate_json(p.read_text()) for p in sorted((run / "evaluations").glob("*.json"))]
    log = next(run.parent.glob("*.log"), None)
    text = log.read_text() if log else ""
    wall = re.search(r"exit (\d+) after (\d+) s", text)
    stop = re.search(r"stopping \(([a-z_]+)\)", text)
    best = _best(results)
    row |= {"candidates": len(results), "correct": sum(r.correct for r in results),
            "rounds": max((int(m) for m in re.findall(r"round (\d+):", text)), default=0),
            "wall_s": int(wall.group(2)) if wall else None, "stop": stop.group(1) if stop else None}
    if best is None:
        return row | {"note": _why_none(results)}
    for baseline in ("eager", "compiled"):
        comparison = best.comparison_with(baseline)
        if comparison is not None:
            row[f"{baseline}_speedup"] = comparison.speedup
            row[f"{baseline}_ci_low"] = comparison.ci_low
            row[f"{baseline}_verdict"] = comparison.verdict
    row["percent_of_light"] = best.percent_of_light
    row["best_median_ms"] = best.timing.median_ms if best.timing else None
    return row


def _why_none(results: list[EvalResult]) -> str:
    if not results:
        return "the engine wrote no candidate"
    correct = [r for r in results if r.correct and r.comparisons]
    if correct:
        fastest = max(correct, key=lambda r: min(c.speedup for c in r.comparisons))
        figures = ", ".join(f"{c.speedup:.2f}x {c.baseline}" for c in fastest.comparisons)
        return f"correct but slower than the baselines (best: {figures})"
    return "no correct candidate"


def _geomean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def _group_row(group: str, rows: list[dict]) -> dict:
    summary: dict = {"group": group, "problems": len(rows), "with_candidate": sum("eager_speedup" in r for r in rows)}
    for baseline in ("eager", "compiled"):
        summary[f"fast1_{baseline}"] = sum(r.get(f"{baseline}_verdict") == "faster" for r in rows) / len(rows)
        summary[f"geomean_{baseline}"] = _geomean([r.get(f"{baseline}_speedup") or 1.0 for r in rows])
        summary[f"geomean_{baseline}_solved"] = _geomean([r[f"{baseline}_speedup"] for r in rows
                                                          if f"{baseline}_speedup" in r])
    light = [r["percent_of_light"] for r in rows if r.get("percent_of_light") and r["category"] in MEMORY_BOUND]
    summary["memory_bound_at_80pct_light"] = f"{sum(p >= 80 for p in light)}/{len(light)}" if light else None
    return summary


def _fmt(value: object, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec) if isinstance(value, float) else str(value)


def markdown(rows: list[dict], groups: list[dict]) -> str:
    lines = ["| group | problems | with a kernel | fast_1 eager | fast_1 compile | geomean eager | geomean compile |"
             " geomean eager (solved) | geomean compile (solved) | memory-bound at >= 80% light |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for g in groups:
        lines.append(f"| {g['group']} | {g['problems']} | {g['with_candidate']} | {g['fast1_eager']:.0%} | "
                     f"{g['fast1_compiled']:.0%} | {_fmt(g['geomean_eager'])} | {_fmt(g['geomean_compiled'])} | "
                     f"{_fmt(g['geomean_eager_solved'])} | {_fmt(g['geomean_compiled_solved'])} | "
                     f"{_fmt(g['memory_bound_at_80pct_light'])} |")
    lines += ["", "| problem | group | candidates (correct) | rounds | wall s | vs eager (CI low) |"
              " vs compile (CI low) | % light | stop | note |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        eager = f"{_fmt(r.get('eager_speedup'))} ({_fmt(r.get('eager_ci_low'))})" if "eager_speedup" in r else "-"
        compiled = (f"{_fmt(r.get('compiled_speedup'))} ({_fmt(r.get('compiled_ci_low'))})"
                    if "compiled_speedup" in r else "-")
        lines.append(f"| {r['problem']} | {r['group']} | {r.get('candidates', 0)} ({r.get('correct', 0)}) | "
                     f"{_fmt(r.get('rounds'))} | {_fmt(r.get('wall_s'))} | {eager} | {compiled} | "
                     f"{_fmt(r.get('percent_of_light'), '.0f')} | {_fmt(r.get('stop'))} | {r.get('note', '')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("extracted", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--designs", type=Path, default=None, help="list_supported.py's --json output")
    args = parser.parse_args()
    designs = json.loads(args.designs.read_text()) if args.designs else {}
    problems = sorted(load_problem_dir(SUITE_DIR), key=lambda problem: problem.name)
    runs = {p.parent.name: p for p in (args.extracted / "runs").glob("*/*") if (p / "evaluations").is_dir()}
    rows = [_problem_row(problem, runs.get(problem.name), designs.get(problem.name)) for problem in problems]
    group_names = ["single operators", "fusions", "blocks", "recommendation operators"]
    groups = [_group_row(g, [r for r in rows if r["group"] == g]) for g in group_names]
    groups.append(_group_row("whole suite", rows))
    out = args.out or args.extracted
    out.mkdir(parents=True, exist_ok=True)
    (out / "suite.json").write_text(json.dumps({"groups": groups, "problems": rows}, indent=2))
    (out / "suite.md").write_text(markdown(rows, groups))
    print(markdown(rows, groups))


if __name__ == "__main__":
    main()
