"""The pool shares one worker and one set of baselines per device, and times one candidate at a time on it."""

import threading

import pytest

from harness_helpers import FAST_SETTINGS, FIXTURES, TEST_DEVICE, candidate_source
from kevolve.eval_harness import ErrorKind, EvalStatus, Evaluator, load_problem
from kevolve.tools.evaluation_pool import EvaluationPool

BROKEN = load_problem(FIXTURES / "broken" / "get_inputs_raises.py")


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    # Nothing on disk: what these tests exercise is the pool's own memory of the baselines.
    with EvaluationPool(FAST_SETTINGS, cache_dir=tmp_path_factory.mktemp("baselines"),
                        use_baseline_cache=False) as pool:
        yield pool


def test_baselines_are_measured_once_per_problem_and_device(pool, gelu_problem, monkeypatch):
    measured = []
    measure = Evaluator.baselines

    def counted(self, problem):
        measured.append(problem.name)
        return measure(self, problem)

    monkeypatch.setattr(Evaluator, "baselines", counted)
    # A name no other test uses, so this pool has not met the problem before.
    problem = gelu_problem.model_copy(update={"name": "gelu_for_the_pool"})
    first = pool.evaluate(problem, TEST_DEVICE, candidate_source("correct_triton"))
    second = pool.evaluate(problem, TEST_DEVICE, candidate_source("correct_triton"), name="again")
    assert first.status is EvalStatus.CORRECT and second.status is EvalStatus.CORRECT
    assert pool.baselines(problem, TEST_DEVICE).baselines == first.baselines == second.baselines
    assert measured == [problem.name]


def test_two_threads_on_one_device_take_turns(pool, gelu_problem, monkeypatch):
    running, most_at_once, guard = 0, 0, threading.Lock()
    evaluate = Evaluator.evaluate

    def counted(self, *args, **kwargs):
        nonlocal running, most_at_once
        with guard:
            running += 1
            most_at_once = max(most_at_once, running)
        try:
            return evaluate(self, *args, **kwargs)
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(Evaluator, "evaluate", counted)
    start = threading.Barrier(2)
    results = []

    def evaluate_one(name: str) -> None:
        start.wait()
        results.append(pool.evaluate(gelu_problem, TEST_DEVICE, candidate_source("correct_triton"), name=name))

    threads = [threading.Thread(target=evaluate_one, args=(f"thread{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in results] == [EvalStatus.CORRECT, EvalStatus.CORRECT]
    assert most_at_once == 1


def test_a_broken_reference_is_the_verdict_and_the_candidate_never_runs(pool, gelu_problem):
    result = pool.evaluate(BROKEN, TEST_DEVICE, candidate_source("correct_triton"))
    assert result.status is EvalStatus.ERROR and result.error.kind is ErrorKind.PROBLEM_INVALID
    assert result.candidate_sha256 is not None and result.correctness is None


def test_the_environment_describes_the_device(pool):
    environment = pool.environment(TEST_DEVICE)
    assert environment.device == TEST_DEVICE
    assert environment.timing_meaningful is TEST_DEVICE.startswith("cuda")
    assert pool.environment(TEST_DEVICE) is environment, "a device's description is kept, not asked again"


def test_a_closed_pool_starts_no_more_workers(gelu_problem):
    pool = EvaluationPool(FAST_SETTINGS)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.evaluate(gelu_problem, TEST_DEVICE, candidate_source("correct_triton"))
