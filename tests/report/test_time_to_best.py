"""The report's GPU-minutes to the best kernel: the worker time of every round up to the one that found it."""

from __future__ import annotations

from kevolve.eval_harness.results import Environment, EvalResult, EvalStatus
from kevolve.graph.report.collect import gpu_minutes_to_best
from kevolve.graph.report.model import DeviceResult, ProblemResult, Report
from kevolve.graph.search_tree import DeviceSearch
from kevolve.tools.candidates import Operator, Outcome, Plan, SearchNode


class _Evaluations:
    """A run directory's evaluation files: node id -> worker seconds, on `device`."""

    def __init__(self, seconds: dict[str, float], device: str = "cuda:0") -> None:
        self.seconds, self.device = seconds, device

    def read_evaluation(self, relative: str) -> EvalResult:
        node = relative.removeprefix("evaluations/").removesuffix(".json")
        return EvalResult.model_construct(worker_seconds=self.seconds[node],
                                          environment=Environment.model_construct(device=self.device))


def _node(node_id: str, round_: int, fitness: float | None) -> SearchNode:
    outcome = Outcome(status=EvalStatus.CORRECT, accepted=fitness is not None, fitness=fitness)
    plan = Plan(operator=Operator.IMPROVE, parent_ids=[], strategy="fused", description="fused")
    return SearchNode(id=node_id, device="cuda:0", round=round_, plan=plan, outcome=outcome,
                      evaluation_file=f"evaluations/{node_id}.json")


SEARCH = DeviceSearch(device="cuda:0", nodes={n.id: n for n in [
    _node("r0-0", 0, 1.1), _node("r0-1", 0, None), _node("r1-0", 1, 1.4), _node("r1-1", 1, 1.2),
    _node("r2-0", 2, 1.3)]})
SECONDS = {"r0-0": 30.0, "r0-1": 6.0, "r1-0": 12.0, "r1-1": 12.0, "r2-0": 60.0}


def test_the_rounds_up_to_the_best_count_and_the_ones_after_do_not() -> None:
    assert gpu_minutes_to_best(_Evaluations(SECONDS), SEARCH) == (30 + 6 + 12 + 12) / 60


def test_no_best_or_a_cpu_run_has_no_figure() -> None:
    assert gpu_minutes_to_best(_Evaluations(SECONDS), DeviceSearch(device="cuda:0")) is None
    assert gpu_minutes_to_best(_Evaluations(SECONDS, device="cpu"), SEARCH) is None


def test_the_report_gives_the_median_over_problems_with_a_figure() -> None:
    def problem(name: str, minutes: float | None) -> ProblemResult:
        device = DeviceResult(device="cuda:0", rounds=2, candidates=3, approval="auto_approved",
                              gpu_minutes_to_best=minutes)
        return ProblemResult(name=name, run_id=name, state="finished", devices=[device])

    report = Report(kind="campaign", id="c", title="c", generated_at="now", wall_s=1.0, auto_approve=True,
                    gpu_usd_per_hour=2.0, fast_p={},
                    problems=[problem("a", 3.0), problem("b", None), problem("c", 1.0), problem("d", 0.5)])
    assert report.median_gpu_minutes_to_best == 1.0
    assert report.model_copy(update={"problems": report.problems[:1]}).median_gpu_minutes_to_best == 3.0
