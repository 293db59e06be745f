"""Candidate throughput through the Ray executor on 1 GPU and on 2 GPUs of one machine, side by side.

The same load both times: `--evaluations` candidate evaluations, round-robin over the suite problems
that have a hand-written candidate in benchmarks/candidates/, submitted by more threads than there
are GPUs so that no GPU waits for work. The results cache is off (every evaluation is real); each
GPU's actor first measures (or reads from --cache-dir) the baselines and compiles each candidate
once, untimed, as a long campaign's warm workers would have. Run on the 2-GPU machine:

    python benchmarks/ray_scaling/ray_scaling.py --gpus 1 2 --evaluations 48 --out ray-scaling

Writes ray-scaling.json and ray-scaling.md (device, driver, torch, Triton and Ray versions).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ray

from kevolve.eval_harness import EvalSettings, load_problem
from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.tools.executors import ExecutorKind, ExecutorSettings, ResultCacheSettings
from kevolve.tools.executors.ray_executor import RayExecutor

CANDIDATES = Path(__file__).resolve().parent.parent / "candidates"


def workload(only: list[str] | None) -> list[tuple[Problem, str]]:
    pairs = []
    for candidate in sorted(CANDIDATES.glob("*.py")):
        if only and candidate.stem not in only:
            continue
        pairs.append((load_problem(SUITE_DIR / candidate.name), candidate.read_text()))
    if not pairs:
        raise SystemExit(f"no candidate in {CANDIDATES} matches {only}")
    return pairs


def warm_up(executor: RayExecutor, pairs: list[tuple[Problem, str]]) -> None:
    """Baselines and a first (compiling) evaluation of every candidate on every GPU, untimed."""
    for slot in executor.router.slots:
        for problem, source in pairs:
            result = executor.evaluate(problem, slot.label, source, name=f"warm-{problem.name}")
            print(f"  warm-up {slot.label} {problem.name}: {result.status.value}", flush=True)


def measure(gpus: int, pairs: list[tuple[Problem, str]], *, evaluations: int, cache_dir: Path | None,
            on_cpu: bool) -> dict:
    # On the CPU (to check this script without a GPU), CPU actors stand in for the GPUs.
    devices = {"ray_cpu_actors": gpus} if on_cpu else {"ray_max_gpus": gpus}
    settings = ExecutorSettings(kind=ExecutorKind.RAY, results=ResultCacheSettings(enabled=False), **devices)
    with RayExecutor(EvalSettings(), executor=settings, cache_dir=cache_dir) as executor:
        slots = executor.router.slots
        if len(slots) < gpus:
            raise SystemExit(f"asked for {gpus} GPUs, the cluster gave {len(slots)}")
        # Every GPU of the run has one spec here (one machine); the target names it, so they share the load.
        target = slots[0].environment.hardware_spec or slots[0].environment.device_name
        print(f"{gpus} GPU(s): {[slot.label for slot in slots]}, target {target}", flush=True)
        warm_up(executor, pairs)
        before = {slot.label: slot.evaluations for slot in slots}
        jobs = [pairs[index % len(pairs)] for index in range(evaluations)]

        def judge(job: tuple[Problem, str]) -> tuple[str, float]:
            started = time.perf_counter()
            result = executor.evaluate(job[0], target, job[1], name=job[0].name)
            return result.status.value, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2 * gpus) as threads:
            outcomes = list(threads.map(judge, jobs))
        wall_s = time.perf_counter() - started
        environment = slots[0].environment
        return {
            "gpus": gpus,
            "devices": [slot.label for slot in slots],
            "target": target,
            "evaluations": evaluations,
            "wall_s": wall_s,
            "candidates_per_s": evaluations / wall_s,
            "statuses": {status: [s for s, _ in outcomes].count(status) for status, _ in outcomes},
            "per_gpu": {slot.label: slot.evaluations - before[slot.label] for slot in slots},
            "median_request_s": sorted(seconds for _, seconds in outcomes)[len(outcomes) // 2],
            "environment": environment.model_dump(mode="json"),
        }


def pair_ratios(runs: list[dict]) -> list[float]:
    """Throughput of each run on more GPUs over the run just before it on fewer: with `--gpus 1 2 1 2`,
    each ratio compares two measurements taken back to back, so slow drift cancels."""
    return [later["candidates_per_s"] / earlier["candidates_per_s"]
            for earlier, later in itertools.pairwise(runs) if later["gpus"] > earlier["gpus"]]


def markdown(runs: list[dict], ray_version: str) -> str:
    env = runs[0]["environment"]
    lines = [
        "# Ray executor scaling: the same load on 1 and on 2 GPUs",
        "",
        f"Device {env['device_name']} ({env['hardware_spec']}), driver {env['driver_version']}, "
        f"torch {env['torch_version']}, Triton {env['triton_version']}, Ray {ray_version}, "
        f"Python {env['python_version']}. Results cache off; warm actors (baselines and compilation done).",
        "",
        "| GPUs | evaluations | wall (s) | candidates/s | per GPU | statuses |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(f"| {run['gpus']} | {run['evaluations']} | {run['wall_s']:.1f} | {run['candidates_per_s']:.2f} "
                     f"| {run['per_gpu']} | {run['statuses']} |")
    ratios = pair_ratios(runs)
    if ratios:
        lines += ["", f"Throughput ratio, each run over the one before it on fewer GPUs ({len(ratios)} pairs): "
                      f"median **{statistics.median(ratios):.2f}x**, range {min(ratios):.2f}x to {max(ratios):.2f}x."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", type=int, nargs="+", default=[1, 2],
                        help="GPU counts to measure, in order (repeat them, e.g. 1 2 1 2, for a spread)")
    parser.add_argument("--evaluations", type=int, default=48, help="timed evaluations per GPU count")
    parser.add_argument("--only", nargs="*", default=None, help="problems (candidate file stems) to use")
    parser.add_argument("--cache-dir", type=Path, default=None, help="the harness's baseline cache")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    parser.add_argument("--cpu", action="store_true",
                        help="a dry run on CPU actors (Triton's interpreter): checks the script, measures nothing")
    parser.add_argument("--merge", type=Path, nargs="+", default=None,
                        help="measure nothing: join the runs of these earlier OUT.json files (in order) into OUT")
    args = parser.parse_args()
    if args.merge:
        reports = [json.loads(path.read_text()) for path in args.merge]
        write(args.out, [run for report in reports for run in report["runs"]], reports[0]["ray_version"],
              reports[0]["problems"])
        return
    pairs = workload(args.only)
    ray.init(include_dashboard=False, log_to_driver=False, **({"num_cpus": max(args.gpus)} if args.cpu else {}))
    try:
        runs = [measure(gpus, pairs, evaluations=args.evaluations, cache_dir=args.cache_dir, on_cpu=args.cpu)
                for gpus in args.gpus]
    finally:
        ray.shutdown()
    write(args.out, runs, ray.__version__, [p.name for p, _ in pairs])


def write(out: Path, runs: list[dict], ray_version: str, problems: list[str]) -> None:
    ratios = pair_ratios(runs)
    report = {"ray_version": ray_version, "problems": problems, "runs": runs, "pair_ratios": ratios,
              "median_ratio": statistics.median(ratios) if ratios else None}
    out.with_suffix(".json").write_text(json.dumps(report, indent=1))
    out.with_suffix(".md").write_text(markdown(runs, ray_version))
    print(markdown(runs, ray_version))


if __name__ == "__main__":
    main()
