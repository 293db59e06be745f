"""Gathering a report's figures from the runs' checkpoints and evaluation files, and a campaign's store."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from kevolve.eval_harness.results import Environment, EvalResult
from kevolve.eval_harness.scoring import score_suite

from ..campaign.device_clock import BASELINES_EVALUATION, busy_by_device
from ..campaign.snapshot import HOUR_S, gpu_seconds_by_run
from ..campaign.spec import Stopping
from ..campaign.store import CampaignRecord, EvaluationInterval, ProblemEntry
from ..review_queue import run_status
from ..run_directory import TASK_FILE, RunDirectory
from ..runner import OptimizationRun
from ..search_tree import DeviceSearch
from .model import DeviceResult, DeviceUse, ProblemResult, Report, RooflinePoint, Speedup

CPU_DEVICE = "cpu"


def run_report(run: RunDirectory) -> Report:
    """One run as a one-problem report; its GPU time is what its evaluations spent in the harness's workers."""
    price = Stopping().gpu_usd_per_hour
    task = run.task()
    with OptimizationRun(run) as optimization:
        state = optimization.state() if optimization.started else None
    evaluations = [run.read_evaluation(f"evaluations/{path.name}")
                   for path in (run.path / "evaluations").glob("*.json")]
    gpu_hours = sum(result.worker_seconds for result in evaluations
                    if _on_a_gpu(result.environment, task.devices)) / HOUR_S
    status, _ = run_status(run)
    problem, bests = _problem(run, task.problem_name, status.value, state, gpu_hours=gpu_hours, price=price)
    return Report(
        kind="run", id=run.run_id, title=f"Run {run.run_id}: {task.problem_name}", generated_at=_now(),
        wall_s=state["elapsed_s"] if state else 0.0, auto_approve=task.search.auto_approve, regime=task.math.label,
        gpu_usd_per_hour=price, problems=[problem], fast_p=_fast_p([bests]),
    )


def campaign_report(record: CampaignRecord, entries: list[ProblemEntry], intervals: list[EvaluationInterval], *,
                    runs_root) -> Report:
    price = record.spec.stopping.gpu_usd_per_hour
    gpu = gpu_seconds_by_run(interval for interval in intervals if interval.device != CPU_DEVICE)
    problems, bests = [], []
    for entry in entries:
        folder = runs_root / entry.run_id if entry.run_id else None
        if folder is None or not (folder / TASK_FILE).is_file():
            problems.append(ProblemResult(name=entry.name, run_id=entry.run_id, state=entry.state.value))
            bests.append({})
            continue
        run = RunDirectory(folder)
        with OptimizationRun(run) as optimization:
            state = optimization.state() if optimization.started else None
        problem, best = _problem(run, entry.name, entry.state.value, state,
                                 gpu_hours=gpu.get(entry.run_id, 0.0) / HOUR_S, price=price)
        problems.append(problem)
        bests.append(best)
    return Report(
        kind="campaign", id=record.id, title=f"Campaign {record.id}", generated_at=_now(), wall_s=record.elapsed_s,
        auto_approve=record.auto_approve, regime=record.spec.evaluation_settings().math.label,
        gpu_usd_per_hour=price, problems=problems,
        fast_p=_fast_p(bests, devices=record.spec.devices),
        device_use=_device_use(intervals, record.elapsed_s, problems),
    )


def _on_a_gpu(environment: Environment | None, devices: list[str]) -> bool:
    """Whether an evaluation held a GPU (one that failed before naming its device: whether the run has one).
    The CPU interpreter's time is no GPU-hour: priced as one, a CPU run's cost was made of nothing."""
    if environment is None:
        return any(device != CPU_DEVICE for device in devices)
    return environment.device != CPU_DEVICE


def _problem(run: RunDirectory, name: str, status: str, state: dict | None, *, gpu_hours: float,
             price: float) -> tuple[ProblemResult, dict[str, EvalResult]]:
    """The problem's result, and its best kernel's full evaluation per device (for fast_p)."""
    if state is None:
        return ProblemResult(name=name, run_id=run.run_id, state=status, gpu_hours=gpu_hours,
                             cost_usd=gpu_hours * price), {}
    devices, bests = [], {}
    for device, search in state["searches"].items():
        result = run.read_evaluation(search.best.evaluation_file) if search.best is not None else None
        devices.append(_device(search, result, gpu_minutes_to_best(run, search)))
        if result is not None:
            bests[device] = result
    usage = state["usage"]
    return ProblemResult(
        name=name, run_id=run.run_id, state=status, devices=devices, tokens=usage.total_tokens,
        llm_usd=usage.cost_usd, gpu_hours=gpu_hours, cost_usd=usage.cost_usd + gpu_hours * price,
    ), bests


def gpu_minutes_to_best(run: RunDirectory, search: DeviceSearch) -> float | None:
    """How long the search took to find what it kept (issue targets quote its median over problems): the worker
    time of every evaluation in the rounds up to and including the best's, baselines measured with them included."""
    best = search.best
    if best is None:
        return None
    seconds = 0.0
    for node in search.nodes.values():
        if node.round > best.round or node.evaluation_file is None:
            continue
        result = run.read_evaluation(node.evaluation_file)
        if result.environment is not None and result.environment.device == CPU_DEVICE:
            return None
        seconds += result.worker_seconds
    return seconds / 60


def _device(search: DeviceSearch, result: EvalResult | None, gpu_minutes_to_best: float | None) -> DeviceResult:
    best = search.best
    common = {"device": search.device, "rounds": search.rounds, "candidates": len(search.nodes),
              "best_history": list(search.best_history), "stop": search.stop.value if search.stop else None,
              "approval": search.approval.value, "gpu_minutes_to_best": gpu_minutes_to_best}
    if best is None or result is None:
        return DeviceResult(**common)
    return DeviceResult(
        **common, device_name=result.environment.device_name if result.environment else None, best_node=best.id,
        best_written_by=best.written_by.describe() if best.written_by is not None else None,
        fitness=best.outcome.fitness, over_eager=_speedup(result, "eager"),
        over_compiled=_speedup(result, "compiled"), percent_of_light=result.percent_of_light,
        roofline=_roofline(result),
    )


def _speedup(result: EvalResult, baseline: str) -> Speedup | None:
    comparison = result.comparison_with(baseline)
    if comparison is None:
        return None
    return Speedup(median=comparison.speedup, low=comparison.ci_low, high=comparison.ci_high)


def _roofline(result: EvalResult) -> RooflinePoint | None:
    light, timing = result.speed_of_light, result.timing
    if light is None or timing is None or not result.comparisons:  # no meaningful time (CPU): no point
        return None
    return RooflinePoint(flops=light.flops, bytes=light.bytes, median_ms=timing.median_ms,
                         peak_tflops=light.peak_tflops, bandwidth_gbps=light.bandwidth_gbps, bound=light.bound)


def _fast_p(bests: list[dict[str, EvalResult]], *, devices: list[str] | None = None) -> dict:
    """fast_p per device over every problem; a problem with no accepted kernel there counts as a failure."""
    devices = devices or sorted({device for best in bests for device in best})
    return {device: score_suite([best.get(device) for best in bests]) for device in devices}


def _device_use(intervals: list[EvaluationInterval], wall_s: float, problems: list[ProblemResult]) -> list[DeviceUse]:
    busy = busy_by_device(intervals)
    names = {result.device: result.device_name for problem in problems for result in problem.devices
             if result.device_name}
    candidates = Counter(i.device for i in intervals if i.name != BASELINES_EVALUATION)
    hours = max(wall_s, 1e-9) / HOUR_S
    return [DeviceUse(device=device, device_name=names.get(device),
                      busy_fraction=min(seconds / max(wall_s, 1e-9), 1.0), candidates=candidates[device],
                      candidates_per_gpu_hour=candidates[device] / hours)
            for device, seconds in sorted(busy.items())]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
