"""The local executor: real evaluations on the CPU (Triton's interpreter), routed and cached."""

import threading

import pytest

from harness_helpers import FAST_SETTINGS, WORKER_ONLY_SETTINGS, candidate_source
from kevolve.eval_harness import ErrorKind, EvalStatus, Evaluator
from kevolve.eval_harness.environment import CPU_SPEC
from kevolve.eval_harness.worker_client import WorkerUnavailable
from kevolve.main import build_parser
from kevolve.tools.executors import ExecutorKind, LocalExecutor
from kevolve.tools.executors.sqlite_cache import SqliteResultCache

# torch.compile's baseline costs seconds on the CPU and nothing here depends on it.
SETTINGS = FAST_SETTINGS.model_copy(update={"measure_compile_baseline": False})
# Past the static checks (which refuse os._exit on sight), so that a candidate can lose its worker.
UNCHECKED = WORKER_ONLY_SETTINGS.model_copy(update={"measure_compile_baseline": False})


def count_evaluations(monkeypatch) -> list[str]:
    """Every candidate that reaches a harness worker from now on: a cached verdict never does."""
    calls: list[str] = []
    evaluate = Evaluator.evaluate

    def counted(self, problem, source, **kwargs):
        calls.append(kwargs.get("name", "candidate"))
        return evaluate(self, problem, source, **kwargs)

    monkeypatch.setattr(Evaluator, "evaluate", counted)
    return calls


@pytest.fixture
def results_file(tmp_path):
    return tmp_path / "results.sqlite"


@pytest.fixture(scope="module")
def baselines(tmp_path_factory):
    """One baseline cache for the module: each test's own results cache is what is under test."""
    return tmp_path_factory.mktemp("baselines")


def executor_on(results_file, baselines, settings=SETTINGS):
    return LocalExecutor(settings, cache=SqliteResultCache(results_file), cache_dir=baselines)


def test_a_verdict_reached_once_is_read_back_by_every_later_run(results_file, baselines, gelu_problem, monkeypatch):
    source = candidate_source("correct_triton")
    with executor_on(results_file, baselines) as first_run:
        judged = first_run.evaluate(gelu_problem, "cpu", source)
        assert judged.status is EvalStatus.CORRECT and not judged.from_cache
        calls = count_evaluations(monkeypatch)
        again = first_run.evaluate(gelu_problem, "cpu", source, name="again")
        by_spec = first_run.evaluate(gelu_problem, CPU_SPEC, source, name="by spec")
    with executor_on(results_file, baselines) as second_run:
        later = second_run.evaluate(gelu_problem, "cpu", source)
    assert calls == [], "a cached verdict never reaches a worker"
    assert again.from_cache and by_spec.from_cache and later.from_cache
    assert later.correctness == judged.correctness and later.environment == judged.environment


def test_a_lost_worker_is_not_remembered(results_file, baselines, gelu_problem, monkeypatch):
    calls = count_evaluations(monkeypatch)
    with executor_on(results_file, baselines, UNCHECKED) as executor:
        first = executor.evaluate(gelu_problem, "cpu", candidate_source("hard_exit"))
        second = executor.evaluate(gelu_problem, "cpu", candidate_source("hard_exit"))
    assert first.error.kind is second.error.kind is ErrorKind.WORKER_CRASHED
    assert not second.from_cache and len(calls) == 2


def test_the_same_candidate_requested_twice_at_once_runs_once(results_file, baselines, gelu_problem, monkeypatch):
    calls = count_evaluations(monkeypatch)
    results = []
    with executor_on(results_file, baselines) as executor:
        executor.environment("cpu")  # the worker started, so both requests are in flight together
        threads = [threading.Thread(target=lambda: results.append(
            executor.evaluate(gelu_problem, "cpu", candidate_source("correct_triton")))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(calls) == 1 and sorted(r.from_cache for r in results) == [False, True]


def test_a_spec_no_local_device_has_is_refused_by_name(tmp_path, gelu_problem):
    with LocalExecutor(SETTINGS, cache_dir=tmp_path) as executor, \
            pytest.raises(WorkerUnavailable, match="no device matches 'h100_sxm'"):
        executor.evaluate(gelu_problem, "h100_sxm", candidate_source("correct_triton"))


@pytest.mark.parametrize(("argv", "expected"), [
    ([], {"kind": ExecutorKind.LOCAL, "ray_address": None}),
    (["--executor", "ray", "--ray-address", "10.0.0.7:6379"],
     {"kind": ExecutorKind.RAY, "ray_address": "10.0.0.7:6379"}),
])
def test_optimize_takes_the_executor_from_its_options(argv, expected, tmp_path):
    from kevolve.executor_options import executor_settings

    args = build_parser().parse_args(["optimize", "p.py", "--cache-dir", str(tmp_path), *argv])
    settings = executor_settings(args, environ={"KEVOLVE_DATABASE_URL": "postgresql://db/kevolve"})
    assert {"kind": settings.kind, "ray_address": settings.ray_address} == expected
    assert settings.results.sqlite_path == tmp_path / "results.sqlite", "beside the baselines of --cache-dir"
    assert settings.results.database_url == "postgresql://db/kevolve"
    no_cache = executor_settings(build_parser().parse_args(["optimize", "p.py", "--no-cache"]), environ={})
    assert not no_cache.results.enabled


def test_a_ray_address_without_the_ray_executor_is_a_usage_error():
    from kevolve.executor_options import executor_settings
    from kevolve.options import UsageError

    with pytest.raises(UsageError, match="only used with the ray executor"):
        executor_settings(build_parser().parse_args(["optimize", "p.py", "--ray-address", "x:1"]), environ={})


def test_baselines_measured_once_are_answered_while_the_device_is_busy(results_file, baselines, gelu_problem):
    with executor_on(results_file, baselines) as executor:
        first = executor.baselines(gelu_problem, "cpu")
        assert first.status is EvalStatus.CORRECT
        answers = []
        with executor.router.acquire("cpu"):  # a candidate's timing holds the only device
            asker = threading.Thread(target=lambda: answers.append(executor.baselines(gelu_problem, "cpu")))
            asker.start()
            asker.join(timeout=30)
            assert answers == [first], "a planner's question waited for the busy device"
