"""The results cache: what makes two evaluations the same, what is kept, and both backends alike."""

import pytest

from harness_helpers import FAST_SETTINGS
from kevolve.eval_harness.problem import sha256_text
from kevolve.eval_harness.results import Environment, ErrorKind, EvalError, EvalResult, EvalStatus, Stage
from kevolve.tools.executors import cache_entry, is_cacheable, open_result_cache
from kevolve.tools.executors.postgres_cache import PostgresResultCache
from kevolve.tools.executors.settings import ResultCacheSettings
from kevolve.tools.executors.sqlite_cache import SqliteResultCache

SOURCE = "class ModelNew: pass\n"
H100 = Environment(device="cuda:0", device_name="NVIDIA H100 80GB HBM3", hardware_spec="h100_sxm",
                   torch_version="2.11.0", triton_version="3.6.0", cuda_version="13.0", driver_version="580.159.04",
                   python_version="3.12.3", timing_meaningful=True)


def verdict(problem, *, status=EvalStatus.INCORRECT, error_kind=ErrorKind.OUTPUT_MISMATCH, environment=H100):
    error = EvalError(kind=error_kind, stage=Stage.CORRECTNESS, message="m") if error_kind else None
    return EvalResult(problem=problem.name, problem_sha256=problem.sha256, candidate_sha256=sha256_text(SOURCE),
                      dtype="float32", status=status, error=error, environment=environment)


@pytest.fixture(params=["sqlite", "postgres"])
def cache(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteResultCache(tmp_path / "results.sqlite")
    else:
        store = PostgresResultCache(request.getfixturevalue("postgres_url"))
    yield store
    store.close()


def test_a_stored_verdict_comes_back_marked_as_cached(cache, gelu_problem):
    entry = cache_entry(gelu_problem, SOURCE, H100, FAST_SETTINGS)
    assert cache.get(entry) is None
    stored = verdict(gelu_problem)
    cache.put(entry, stored)
    again = cache.get(entry)
    assert again.from_cache and not stored.from_cache
    assert again.model_copy(update={"from_cache": False}) == stored
    assert cache.count() == 1


def test_the_first_verdict_under_a_key_stays(cache, gelu_problem):
    entry = cache_entry(gelu_problem, SOURCE, H100, FAST_SETTINGS)
    cache.put(entry, verdict(gelu_problem))
    cache.put(entry, verdict(gelu_problem, status=EvalStatus.CORRECT, error_kind=None))
    assert cache.get(entry).status is EvalStatus.INCORRECT and cache.count() == 1


@pytest.mark.parametrize("kind", [ErrorKind.TIMEOUT, ErrorKind.WORKER_CRASHED, ErrorKind.HOST_MEMORY_LIMIT,
                                  ErrorKind.DEVICE_OUT_OF_MEMORY, ErrorKind.PROBLEM_INVALID])
def test_outcomes_of_the_moment_are_not_kept(cache, gelu_problem, kind):
    entry = cache_entry(gelu_problem, SOURCE, H100, FAST_SETTINGS)
    cache.put(entry, verdict(gelu_problem, status=EvalStatus.ERROR, error_kind=kind))
    assert cache.get(entry) is None and cache.count() == 0


def test_only_verdicts_on_a_candidate_from_a_device_are_cacheable(gelu_problem):
    assert is_cacheable(verdict(gelu_problem))
    assert is_cacheable(verdict(gelu_problem, error_kind=ErrorKind.SYNTAX_ERROR, status=EvalStatus.ERROR))
    assert not is_cacheable(verdict(gelu_problem, environment=None)), "refused before any worker ran"
    assert not is_cacheable(verdict(gelu_problem).model_copy(update={"candidate_sha256": None})), "a baseline"


def test_an_unreadable_entry_is_evaluated_again(tmp_path, gelu_problem):
    cache = SqliteResultCache(tmp_path / "results.sqlite")
    entry = cache_entry(gelu_problem, SOURCE, H100, FAST_SETTINGS)
    cache._store(entry, '{"written by": "another version"}', "2026-01-01")
    assert cache.get(entry) is None
    cache.close()


def test_every_run_on_the_machine_shares_the_sqlite_file(tmp_path, gelu_problem):
    settings = ResultCacheSettings(sqlite_path=tmp_path / "shared" / "results.sqlite")
    first, second = open_result_cache(settings), open_result_cache(settings)
    entry = cache_entry(gelu_problem, SOURCE, H100, FAST_SETTINGS)
    first.put(entry, verdict(gelu_problem))
    assert second.get(entry).from_cache
    first.close()
    second.close()


def test_a_database_url_selects_postgres_and_caching_can_be_off(postgres_url, tmp_path):
    cache = open_result_cache(ResultCacheSettings(sqlite_path=tmp_path / "unused.sqlite", database_url=postgres_url))
    assert isinstance(cache, PostgresResultCache) and not (tmp_path / "unused.sqlite").exists()
    cache.close()
    assert open_result_cache(ResultCacheSettings(enabled=False)) is None


def test_the_key_changes_with_whatever_could_change_the_verdict(gelu_problem):
    base = cache_entry(gelu_problem, SOURCE, H100, FAST_SETTINGS).key
    other_gpu_same_spec = H100.model_copy(update={"device": "cuda:3"})
    assert cache_entry(gelu_problem, SOURCE, other_gpu_same_spec, FAST_SETTINGS).key == base
    changed = [
        cache_entry(gelu_problem, SOURCE + "\n", H100, FAST_SETTINGS),
        cache_entry(gelu_problem.model_copy(update={"sha256": "0" * 64}), SOURCE, H100, FAST_SETTINGS),
        cache_entry(gelu_problem, SOURCE, H100.model_copy(update={"hardware_spec": "a100_80gb"}), FAST_SETTINGS),
        cache_entry(gelu_problem, SOURCE, H100.model_copy(update={"torch_version": "2.12.0"}), FAST_SETTINGS),
        cache_entry(gelu_problem, SOURCE, H100.model_copy(update={"triton_version": "3.7.0"}), FAST_SETTINGS),
        cache_entry(gelu_problem, SOURCE, H100.model_copy(update={"driver_version": "590.1"}), FAST_SETTINGS),
        cache_entry(gelu_problem, SOURCE, H100, FAST_SETTINGS.model_copy(update={"correctness_trials": 9})),
    ]
    assert all(entry.key != base for entry in changed)
    no_spec = H100.model_copy(update={"hardware_spec": None, "device_name": "Some New GPU"})
    assert cache_entry(gelu_problem, SOURCE, no_spec, FAST_SETTINGS).device == "Some New GPU"
