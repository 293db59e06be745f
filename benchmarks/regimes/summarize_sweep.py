"""One markdown table of a schedule sweep (sweep_on_device.sh): each variant's time beside eager and torch.compile.

    python benchmarks/regimes/summarize_sweep.py --sweep OUT/sweep-default.json --variants OUT/variants-default

Per problem: every variant the engine wrote (its schedule or launch-setting move, from the header comment
write_variants.py gave it), its median and quartiles from the independent timer, its ratio over torch.compile, its
worst absolute error; then the cost model's record: how often the schedule it ranked first (variant 0) was the
fastest of the schedules' default candidates, as measured.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

SCHEDULE_NOTE = "schedule: "


def variant_notes(folder: Path) -> dict[str, str]:
    """`candidate <index>` -> what that variant is, from its first line."""
    notes = {}
    for path in folder.glob("*.py"):
        first = path.read_text().splitlines()[0].removeprefix("# ").removeprefix("offline engine: ")
        notes[f"candidate {path.stem}"] = first
    return notes


def problem_lines(row: dict, notes: dict[str, str]) -> tuple[list[str], bool | None]:
    """The problem's table rows, and whether the model's first schedule was the fastest schedule (None: fewer than
    two schedules timed)."""
    name = row["problem"]
    if "error" in row:
        return [f"| {name} | not timed: {row['error'][:100]} | | | |"], None
    compiled = row["compiled"]["median_ms"]
    lines = [f"| {name} | eager | {row['eager']['median_ms']:.4g} | {compiled / row['eager']['median_ms']:.2f}x | |",
             f"| {name} | torch.compile | {compiled:.4g} | 1.00x | |"]
    timed = sorted((label for label in row if label.startswith("candidate ")), key=lambda s: int(s.split()[-1]))
    for label in timed:
        stats, error = row[label], row["worst_abs_error"].get(label)
        mark = " **best**" if label == row.get("best") else ""
        lines.append(f"| {name} | {label.split()[-1]}: {notes.get(label, '?')}{mark} | {stats['median_ms']:.4g} "
                     f"({stats['q1_ms']:.4g} to {stats['q3_ms']:.4g}) | {compiled / stats['median_ms']:.2f}x "
                     f"| {error if isinstance(error, str) else f'{error:.2g}'} |")
    for label, error in row["worst_abs_error"].items():
        if label not in timed:
            lines.append(f"| {name} | {label}: {notes.get(label, '?')} | failed: {error[:100]} | | |")
    schedules = [label for label in timed if SCHEDULE_NOTE in notes.get(label, "")]
    if len(schedules) < 2:
        return lines, None
    fastest = min(schedules, key=lambda label: row[label]["median_ms"])
    return lines, fastest == schedules[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=Path, required=True)
    parser.add_argument("--variants", type=Path, required=True)
    args = parser.parse_args()
    sweep = json.loads(args.sweep.read_text())
    print(f"Regime `{json.dumps(sweep['regime'])}` on {sweep['device']}, torch {sweep['torch']}.\n")
    print("| problem | variant | median ms (q1 to q3) | x torch.compile | worst abs error |")
    print("|---|---|---|---|---|")
    agreements, ratios = [], []
    for row in sweep["rows"]:
        lines, agreed = problem_lines(row, variant_notes(args.variants / row["problem"]))
        print("\n".join(lines))
        if agreed is not None:
            agreements.append(agreed)
        if "speedup_compiled" in row:
            ratios.append(row["speedup_compiled"])
    if ratios:
        geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\nBest variant over torch.compile: geometric mean {geomean:.3f}x over {len(ratios)} problems; "
              f"{sum(r > 1 for r in ratios)} faster.")
    if agreements:
        print(f"The cost model's first schedule was the fastest schedule in {sum(agreements)} of {len(agreements)} "
              "problems with two or more schedules timed.")


if __name__ == "__main__":
    main()
