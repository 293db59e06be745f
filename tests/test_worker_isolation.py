"""Whatever a candidate does to its worker, the caller gets a classified verdict and goes on."""

import pytest

from harness_helpers import candidate_source
from kevolve.eval_harness import ErrorKind, EvalStatus, Stage

CRASHES = [
    ("segfault", ErrorKind.WORKER_CRASHED, Stage.CORRECTNESS),
    ("hard_exit", ErrorKind.WORKER_CRASHED, Stage.CORRECTNESS),
    ("infinite_loop", ErrorKind.TIMEOUT, Stage.CORRECTNESS),
    ("huge_host_allocation", ErrorKind.HOST_MEMORY_LIMIT, Stage.CORRECTNESS),
    ("patches_timer", ErrorKind.HARNESS_TAMPERED, Stage.CORRECTNESS),
]


@pytest.mark.parametrize(("name", "kind", "stage"), CRASHES)
def test_a_candidate_that_breaks_its_worker_gets_a_verdict_and_a_new_worker(
    cpu_evaluator, gelu_problem, name, kind, stage
):
    cpu_evaluator.worker()
    started = cpu_evaluator.workers_started
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source(name), name=name)
    assert result.status is EvalStatus.ERROR
    assert result.error.kind is kind, result.error.message
    assert result.error.stage is stage
    # The worker that ran it is gone; the next evaluation runs in a fresh one and is judged normally.
    after = cpu_evaluator.evaluate(gelu_problem, candidate_source("correct_triton"))
    assert after.status is EvalStatus.CORRECT, after.error
    assert cpu_evaluator.workers_started == started + 1


def test_a_hard_exit_reports_its_exit_code(cpu_evaluator, gelu_problem):
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source("hard_exit"))
    assert "exit code 3" in result.error.message


def test_a_segfault_reports_the_signal(cpu_evaluator, gelu_problem):
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source("segfault"))
    assert "SIGSEGV" in result.error.message


EXCEPTIONS = [
    ("raises_at_import", ErrorKind.IMPORT_ERROR, Stage.LOAD_CANDIDATE),
    ("syntax_error", ErrorKind.SYNTAX_ERROR, Stage.LOAD_CANDIDATE),
    ("no_model_new", ErrorKind.MISSING_MODEL_NEW, Stage.LOAD_CANDIDATE),
    ("raises_in_constructor", ErrorKind.CONSTRUCTION_ERROR, Stage.CONSTRUCT),
    ("raises_in_forward", ErrorKind.RUNTIME_ERROR, Stage.CORRECTNESS),
    ("exits_in_forward", ErrorKind.RUNTIME_ERROR, Stage.CORRECTNESS),
]


@pytest.mark.parametrize(("name", "kind", "stage"), EXCEPTIONS)
def test_an_exception_is_classified_and_the_worker_survives(cpu_evaluator, gelu_problem, name, kind, stage):
    cpu_evaluator.worker()
    started = cpu_evaluator.workers_started
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source(name), name=name)
    assert result.status is EvalStatus.ERROR
    assert result.error.kind is kind, result.error.message
    assert result.error.stage is stage
    assert cpu_evaluator.workers_started == started, "an exception must not cost the worker"


def test_the_exception_message_reaches_the_caller(cpu_evaluator, gelu_problem):
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source("raises_in_forward"))
    assert "forward refuses" in result.error.message


def test_text_a_candidate_prints_is_never_taken_for_a_verdict(cpu_evaluator, gelu_problem):
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source("prints_fake_verdict"))
    assert result.status is EvalStatus.INCORRECT
    assert result.error.kind is ErrorKind.OUTPUT_MISMATCH


def test_the_worker_does_not_inherit_secrets(monkeypatch):
    from kevolve.eval_harness.worker_client import worker_environment

    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("TRITON_CACHE_DIR", "/tmp/triton")
    env = worker_environment("cpu")
    assert "OPENAI_API_KEY" not in env
    assert env["TRITON_CACHE_DIR"] == "/tmp/triton"
    assert env["TRITON_INTERPRET"] == "1"
