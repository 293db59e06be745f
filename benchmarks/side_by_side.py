"""Several forms of each problem's candidate judged side by side by the harness, in one worker on one GPU.

Each problem's forms are judged in a mirrored order (A B C, C B A), repeated, so that drift during the run
weighs on every form alike; each form's time is the median of its harness medians, with their range, and
each later form is compared with the first. Run on the GPU, from the repository root:

    python benchmarks/side_by_side.py --form before=DIR_A --form after=DIR_B --repeats 2 --out $OUT/cmp

A form is a folder of candidates named after their problems (`<problem>.py`); a problem is judged when
every form has it. Writes OUT.json and OUT.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path

from kevolve.eval_harness import EvalSettings, Evaluator, load_problem
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.eval_harness.settings import Policy

# A form: a problem's name -> the candidate's source.
Form = Callable[[str], str]


def judge(names: list[str], forms: dict[str, Form], *, repeats: int, out: Path, title: str) -> list[dict]:
    """Writes OUT.json and OUT.md after every problem: a run cut short by its time limit keeps what it measured."""
    order = list(forms) + list(reversed(forms))
    # hybrid, as the campaign that wrote the engine's candidates: its fusions keep cuBLAS/cuDNN for the GEMM.
    settings = EvalSettings(policy=Policy.HYBRID, measure_compile_baseline=False)
    rows: list[dict] = []
    with Evaluator("cuda:0", settings=settings) as evaluator:
        for name in names:
            problem = load_problem(SUITE_DIR / f"{name}.py")
            baselines = evaluator.baselines(problem).baselines
            medians: dict[str, list[float]] = {form: [] for form in forms}
            statuses, failures, environment = set(), [], None
            for form in order * repeats:
                result = evaluator.evaluate(problem, forms[form](name), name=f"{name}-{form}", baselines=baselines)
                statuses.add(result.status.value)
                environment = result.environment or environment
                if result.timing is not None:
                    medians[form].append(result.timing.median_ms)
                if result.error is not None:
                    failures.append(f"{form}: {result.error.message[:400]}")
            rows.append({"problem": name, "statuses": sorted(statuses), "failures": failures, "median_ms": medians,
                         "eager_ms": baselines.eager.median_ms if baselines and baselines.eager else None,
                         "environment": environment.model_dump(mode="json") if environment else None})
            print(f"{name}: {_spreads(rows[-1])} {sorted(statuses)}", flush=True)
            out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
            out.with_suffix(".md").write_text(markdown(rows, list(forms), title))
    print(markdown(rows, list(forms), title))
    return rows


def _spreads(row: dict) -> dict[str, str]:
    return {form: _spread(values) for form, values in row["median_ms"].items()}


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):.4g} ({min(values):.4g} to {max(values):.4g})"


def ratio(row: dict, first: str, other: str) -> float | None:
    """The first form's time over the other's: above 1, the other form is faster."""
    a, b = row["median_ms"][first], row["median_ms"][other]
    return statistics.median(a) / statistics.median(b) if a and b else None


def markdown(rows: list[dict], forms: list[str], title: str) -> str:
    env = next((row["environment"] for row in rows if row["environment"]), None) or {}
    first, others = forms[0], forms[1:]
    lines = [f"# {title}", "",
             f"Device {env.get('device_name')}, driver {env.get('driver_version')}, torch {env.get('torch_version')}, "
             f"Triton {env.get('triton_version')}. Forms judged in the order {', '.join(forms + forms[::-1])}, "
             "repeated; each form's time is the median of its harness medians, with their range.", "",
             "| problem | " + " | ".join(f"{form} (ms)" for form in forms) + " | "
             + " | ".join(f"{first} / {other}" for other in others) + " | eager (ms) | statuses |",
             "|---" * (len(forms) + len(others) + 3) + "|"]
    for row in rows:
        cells = [_spread(row["median_ms"][form]) for form in forms]
        cells += [f"{r:.3g}" if (r := ratio(row, first, other)) else "n/a" for other in others]
        cells.append(f"{row['eager_ms']:.4g}" if row["eager_ms"] else "n/a")
        lines.append(f"| {row['problem']} | " + " | ".join(cells) + f" | {', '.join(row['statuses'])} |")
    for other in others:
        ratios = [r for row in rows if (r := ratio(row, first, other))]
        if ratios:
            lines += ["", f"Geometric mean of {first} / {other} over {len(ratios)} problems: "
                          f"**{statistics.geometric_mean(ratios):.3f}x**."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form", action="append", required=True, metavar="NAME=DIR",
                        help="a folder of candidates named <problem>.py; the others are compared with the first")
    parser.add_argument("--only", nargs="*", default=None, help="these problems only")
    parser.add_argument("--repeats", type=int, default=1, help="times the mirrored order is run")
    parser.add_argument("--title", default="Candidates side by side")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    args = parser.parse_args()
    folders = dict(form.split("=", 1) for form in args.form)
    present = [{path.stem for path in Path(folder).glob("*.py")} for folder in folders.values()]
    names = sorted(set.intersection(*present))
    names = [name for name in names if not args.only or name in args.only]
    forms = {form: (lambda name, folder=Path(folder): (folder / f"{name}.py").read_text())
             for form, folder in folders.items()}
    judge(names, forms, repeats=args.repeats, out=args.out, title=args.title)


if __name__ == "__main__":
    main()
