"""The Ray executor on a local Ray (CPU actors, Triton's interpreter): real evaluations, a killed actor, the cache."""

import threading
import time

import pytest

from harness_helpers import FAST_SETTINGS, candidate_source
from kevolve.eval_harness import ErrorKind, EvalStatus
from kevolve.eval_harness.environment import CPU_SPEC
from kevolve.eval_harness.results import Stage
from kevolve.eval_harness.worker_client import WorkerUnavailable
from kevolve.tools.executors import ExecutorKind, ExecutorSettings, cache_entry
from kevolve.tools.executors import ray_executor as ray_module
from kevolve.tools.executors.sqlite_cache import SqliteResultCache

# torch.compile's baseline costs seconds on the CPU and nothing here depends on it.
SETTINGS = FAST_SETTINGS.model_copy(update={"measure_compile_baseline": False})


def variant(number: int) -> str:
    """A correct candidate that no earlier test evaluated (its source, hence its cache key, differs)."""
    return candidate_source("correct_triton") + f"\n# variant {number} {time.time_ns()}\n"


def slow_variant() -> str:
    """Correct, but every forward launches its kernel hundreds of times: seconds in the interpreter."""
    launch = "        _gelu_tanh_kernel[(triton.cdiv(n, 1024),)](x, y, n, BLOCK=1024)\n"
    source = candidate_source("correct_triton")
    assert launch in source
    return source.replace(launch, "        for _ in range(400):\n    " + launch) + f"# {time.time_ns()}\n"


@pytest.fixture(scope="module")
def executor(local_ray, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray-executor")
    with ray_module.RayExecutor(SETTINGS, executor=ExecutorSettings(kind=ExecutorKind.RAY, ray_cpu_actors=2),
                                cache=SqliteResultCache(folder / "results.sqlite"), cache_dir=folder) as executor:
        yield executor


def test_each_actor_describes_its_device_and_serves_its_spec(executor, gelu_problem):
    slots = executor.router.matching(CPU_SPEC)
    assert len(slots) == 2 and all(slot.environment.hardware_spec == CPU_SPEC for slot in slots)
    assert sorted(slot.label.split("/")[-1] for slot in slots) == ["cpu#0", "cpu#1"], "host/device#n"
    with pytest.raises(WorkerUnavailable, match=r"no device matches 'h100_sxm'.*cpu#1 \(cpu_interpreter\)"):
        executor.evaluate(gelu_problem, "h100_sxm", variant(0))


def test_two_actors_judge_two_candidates_at_once(executor, gelu_problem):
    before = {slot.label: slot.evaluations for slot in executor.router.slots}
    results = {}

    def judge(number):
        results[number] = executor.evaluate(gelu_problem, CPU_SPEC, variant(number), name=f"c{number}")

    threads = [threading.Thread(target=judge, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[n].status for n in range(2)] == [EvalStatus.CORRECT, EvalStatus.CORRECT]
    assert all(results[n].environment.hardware_spec == CPU_SPEC for n in range(2))
    after = {slot.label: slot.evaluations for slot in executor.router.slots}
    assert all(after[label] == before[label] + 1 for label in after), "one candidate on each actor"


def test_a_killed_actor_costs_its_candidate_and_a_replacement_serves_the_next(executor, local_ray, gelu_problem):
    slot = executor.router.slots[0]
    victim, source = slot.actor, slow_variant()
    results = []
    thread = threading.Thread(target=lambda: results.append(executor.evaluate(gelu_problem, slot.label, source)))
    thread.start()
    time.sleep(1.5)  # the request is with the actor, whose worker is judging it
    local_ray.kill(victim)
    thread.join(timeout=120)
    (lost,) = results
    assert lost.status is EvalStatus.ERROR and lost.error.kind is ErrorKind.WORKER_CRASHED
    assert lost.error.stage is Stage.DISPATCH and lost.candidate_sha256 is not None
    assert slot.replacements == 1 and slot.actor is not victim
    retried = executor.evaluate(gelu_problem, slot.label, variant(11))
    assert retried.status is EvalStatus.CORRECT and not retried.from_cache
    assert executor.cache.get(cache_entry(gelu_problem, source, lost.environment, SETTINGS)) is None, \
        "a lost actor's error is not remembered"


def test_an_actor_past_the_backstop_is_replaced_and_the_candidate_timed_out(executor, gelu_problem, monkeypatch):
    slot = executor.router.slots[1]
    replacements = slot.replacements
    monkeypatch.setattr(ray_module, "call_timeout_s", lambda settings: 0.2)
    # A candidate that takes seconds: a quick one can beat a 0.2 s backstop on an idle machine.
    result = executor.evaluate(gelu_problem, slot.label, slow_variant())
    assert result.status is EvalStatus.ERROR and result.error.kind is ErrorKind.TIMEOUT
    assert slot.replacements == replacements + 1


def test_a_cached_verdict_never_reaches_an_actor(executor, gelu_problem, monkeypatch):
    source = variant(30)
    judged = executor.evaluate(gelu_problem, CPU_SPEC, source)
    before = {slot.label: slot.evaluations for slot in executor.router.slots}

    def unreachable(self, problem, source, *, name):
        raise AssertionError("a cached verdict reached an actor")

    monkeypatch.setattr(ray_module.RaySlot, "evaluate", unreachable)
    cached = executor.evaluate(gelu_problem, CPU_SPEC, source, name="again")
    assert judged.status is EvalStatus.CORRECT and not judged.from_cache
    assert cached.from_cache and cached.correctness == judged.correctness
    assert {slot.label: slot.evaluations for slot in executor.router.slots} == before
