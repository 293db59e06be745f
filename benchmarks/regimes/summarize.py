"""Joins the campaigns' own figures with the independent timer's into one markdown table per regime.

    python benchmarks/regimes/summarize.py --state STATE_DIR --timer DIR_WITH_independent-*.json > results.md

STATE_DIR is run_on_device.sh's state (one folder per regime, each with its campaign report and library).
For each problem: kevolve's speedup over torch.compile as the library record states it, the independent
timer's (medians of interleaved calls, same regime), how far apart the two are, and the geometric mean.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


def library_records(library: Path) -> dict[str, dict]:
    records = {}
    for path in library.glob("*/*/*.json"):
        if not path.name.endswith(".status.json"):
            records[path.parent.parent.name] = json.loads(path.read_text())
    return records


def campaign_problems(regime_dir: Path) -> dict[str, dict]:
    report = regime_dir / "report" / "report.json"
    if not report.is_file():
        return {}
    return {problem["name"]: problem for problem in json.loads(report.read_text())["problems"]}


def geometric_mean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def regime_table(regime: str, regime_dir: Path, timer_file: Path) -> list[str]:
    records = library_records(regime_dir / "library")
    problems = campaign_problems(regime_dir)
    timer = json.loads(timer_file.read_text()) if timer_file.is_file() else {"rows": []}
    timed = {row["problem"]: row for row in timer["rows"]}
    lines = [f"## {regime}", "", f"Timer regime: `{json.dumps(timer.get('regime'))}` on {timer.get('device')}, "
             f"torch {timer.get('torch')}.", "",
             "| problem | kernel | kevolve: x compile | independent: x compile | apart | independent: x eager "
             "| median ms (candidate / compile / eager) | worst abs error |",
             "|---|---|---|---|---|---|---|---|"]
    independent = []
    for name in sorted(set(problems) | set(records)):
        record, row = records.get(name), timed.get(name)
        if record is None:
            devices = problems.get(name, {}).get("devices", [{}])
            why = ", ".join(f"{d.get('stop')}/{d.get('approval')}" for d in devices)
            lines.append(f"| {name} | none ({why}) | | | | | | |")
            continue
        own = record.get("speedup_compiled")
        if row is None or "error" in row or "best" not in row:
            lines.append(f"| {name} | {record['node_id']} | {own and f'{own:.2f}'} | not timed "
                         f"({(row or {}).get('error', 'timer ran out of time')[:80]}) | | | | |")
            continue
        theirs = row["speedup_compiled"]
        independent.append(theirs)
        apart = f"{abs(theirs / own - 1) * 100:.1f}%" if own else "n/a"
        medians = " / ".join(f"{row[k]['median_ms']:.4g}" for k in (row["best"], "compiled", "eager"))
        lines.append(f"| {name} | {record['node_id']} | {own and f'{own:.2f}'} | {theirs:.2f} | {apart} | "
                     f"{row['speedup_eager']:.2f} | {medians} | {row['worst_abs_error'][row['best']]:.2g} |")
    mean = geometric_mean(independent)
    faster = sum(1 for value in independent if value > 1)
    lines += ["", f"Kernels timed independently: {len(independent)}; faster than torch.compile: {faster}; "
              f"geometric mean over torch.compile: {mean:.3f}" if mean else "No kernel was timed.", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--timer", type=Path, required=True)
    args = parser.parse_args()
    lines: list[str] = []
    for regime_dir in sorted(path for path in args.state.iterdir() if path.is_dir()):
        lines += regime_table(regime_dir.name, regime_dir, args.timer / f"independent-{regime_dir.name}.json")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
