"""A report as a GPU campaign would produce it (figures of the order an H100 gives), built from the report's
own models: what the page must draw, independent of any machine's timings."""

from __future__ import annotations

from kevolve.eval_harness.results import EvalResult, EvalStatus, SpeedComparison
from kevolve.eval_harness.scoring import score_suite
from kevolve.graph.report.model import DeviceResult, DeviceUse, ProblemResult, Report, RooflinePoint, Speedup

H100 = {"peak_tflops": 989.0, "bandwidth_gbps": 3020.0}


def _device(fitness: float, *, history: list[float], light: float, roofline: RooflinePoint,
            approval: str = "auto_approved") -> DeviceResult:
    return DeviceResult(
        device="cuda:0", device_name="NVIDIA H100 80GB HBM3", rounds=len(history), candidates=2 * len(history),
        best_node=f"cuda0-r{len(history):02d}-0", fitness=fitness,
        over_eager=Speedup(median=fitness * 1.4, low=fitness * 1.3, high=fitness * 1.5),
        over_compiled=Speedup(median=fitness, low=fitness * 0.95, high=fitness * 1.05),
        percent_of_light=light, best_history=history, stop="plateau", approval=approval, roofline=roofline,
    )


def _result(speedup: float) -> EvalResult:
    comparisons = [SpeedComparison(baseline=name, speedup=speedup * factor, ci_low=speedup * factor * 0.95,
                                   ci_high=speedup * factor * 1.05, verdict="faster")
                   for name, factor in (("eager", 1.4), ("compiled", 1.0))]
    return EvalResult(problem="p", problem_sha256="0", candidate_sha256="1", dtype="float32",
                      status=EvalStatus.CORRECT, comparisons=comparisons)


def sample_report() -> Report:
    problems = [
        ProblemResult(name="matmul_square", run_id="r1", state="done", tokens=52000, llm_usd=0.41, gpu_hours=0.05,
                      cost_usd=0.535, devices=[_device(1.3, history=[0.8, 1.1, 1.3, 1.3], light=71.0, roofline=
                      RooflinePoint(flops=2 * 4096**3, bytes=3 * 4 * 4096**2, median_ms=0.19, bound="compute",
                                    **H100))]),
        ProblemResult(name="elementwise_gelu_tanh", run_id="r2", state="waiting", tokens=18000, llm_usd=0.12,
                      gpu_hours=0.01, cost_usd=0.145, devices=[_device(2.6, history=[1.9, 2.4, 2.6], light=88.0,
                      approval="not_asked", roofline=RooflinePoint(flops=0, bytes=2 * 4 * 8192 * 65536,
                                                                     median_ms=1.61, bound="memory", **H100))]),
        ProblemResult(name="softmax_rows", run_id="r3", state="done", tokens=30000, llm_usd=0.22, gpu_hours=0.02,
                      cost_usd=0.27, devices=[_device(1.7, history=[1.2, 1.7], light=64.0, roofline=RooflinePoint(
                          flops=0, bytes=2 * 4 * 4096 * 4096, median_ms=0.07, bound="memory", **H100))]),
        ProblemResult(name="conv_3d", run_id=None, state="skipped"),
    ]
    bests = [_result(1.3), _result(2.6), _result(1.7), None]
    return Report(kind="campaign", id="20261126-000000-sample", title="Campaign 20261126-000000-sample",
                  generated_at="2026-11-26 07:00 UTC", wall_s=3 * 3600.0, auto_approve=True, gpu_usd_per_hour=2.5,
                  problems=problems, fast_p={"cuda:0": score_suite(bests)},
                  device_use=[DeviceUse(device="cuda:0", busy_fraction=0.83, candidates=412,
                                        candidates_per_gpu_hour=137.3)])
