"""Outputs that are wrong in every way the harness knows are refused, each with its own reason."""

import pytest

from harness_helpers import candidate_source
from kevolve.eval_harness import ErrorKind, EvalStatus

WRONG = [
    ("unwritten_output", {ErrorKind.OUTPUT_MISMATCH, ErrorKind.NON_FINITE_OUTPUT}),
    ("mutates_input", {ErrorKind.INPUT_MUTATED}),
    ("wrong_on_second_call", {ErrorKind.NONDETERMINISTIC}),
    ("shape_specialised", {ErrorKind.SHAPE_SPECIALISED}),
    ("wrong_dtype", {ErrorKind.OUTPUT_STRUCTURE}),
    ("tensor_subclass", {ErrorKind.OUTPUT_STRUCTURE}),
    ("nan_output", {ErrorKind.NON_FINITE_OUTPUT}),
]


@pytest.mark.parametrize(("name", "kinds"), WRONG)
def test_wrong_candidates_are_refused_with_their_reason(cpu_evaluator, gelu_problem, name, kinds):
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source(name), name=name)
    assert result.status is EvalStatus.INCORRECT
    assert result.error.kind in kinds, result.error.message
    assert result.timing is None, "a wrong candidate is never timed"
    assert result.comparisons == []


def test_a_correct_candidate_passes_every_trial_and_config(cpu_evaluator, gelu_problem):
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source("correct_triton"))
    assert result.status is EvalStatus.CORRECT
    report = result.correctness
    assert report.passed
    assert report.configs_checked == ["small", "small_odd"]
    assert len(report.trials) == 3 + 1  # three on the primary config, one on the extra shape
    assert len({t.seed for t in report.trials if t.config == "small"}) == 3, "each trial has a fresh seed"
    assert report.worst_abs_error < 1e-5
    assert result.timing.trials == 5
    # On the CPU interpreter, figures exist but are never turned into speedups.
    assert result.environment.timing_meaningful is False
    assert result.comparisons == []


def test_a_failed_trial_keeps_its_error_figures(cpu_evaluator, gelu_problem):
    result = cpu_evaluator.evaluate(gelu_problem, candidate_source("shape_specialised"))
    failed = [t for t in result.correctness.trials if not t.passed]
    assert len(failed) == 1
    assert failed[0].config == "small_odd"
    assert failed[0].mismatched_elements > 0
    assert failed[0].max_abs_error > 0.01


def test_the_reference_is_not_rerun_for_every_candidate(cpu_evaluator, gelu_problem):
    first = cpu_evaluator.baselines(gelu_problem)
    second = cpu_evaluator.baselines(gelu_problem)
    assert first.baselines.eager is not None
    assert second.baselines.from_cache
    assert second.baselines.eager.samples_ms == first.baselines.eager.samples_ms


def test_half_precision_evaluations_cast_inputs_and_weights_and_loosen_tolerance(gelu_problem, tmp_path):
    from harness_helpers import WORKER_ONLY_SETTINGS
    from kevolve.eval_harness import Evaluator
    from kevolve.eval_harness.precision import Precision, resolve

    settings = WORKER_ONLY_SETTINGS.model_copy(update={"math": resolve(Precision.BF16)})
    with Evaluator("cpu", settings=settings, cache_dir=tmp_path) as evaluator:
        right = evaluator.evaluate(gelu_problem, candidate_source("correct_triton"))
        wrong = evaluator.evaluate(gelu_problem, candidate_source("wrong_dtype"))
    assert right.status is EvalStatus.CORRECT, right.error
    assert right.dtype == "bfloat16"
    assert right.math.precision is Precision.BF16
    assert right.correctness.tolerance.atol == 5e-2
    assert wrong.error.kind is ErrorKind.OUTPUT_STRUCTURE, "float64 output for a bfloat16 problem"


def test_a_kernel_that_turns_nan_into_a_number_is_correct_but_flagged(cpu_evaluator, gelu_problem):
    # Random inputs hold no NaN, so the trials pass; one NaN in the input shows that gelu(NaN) came out 0.
    load = "x = tl.load(x_ptr + offsets, mask=mask).to(tl.float32)"
    correct = candidate_source("correct_triton")
    assert load in correct
    drops_nan = correct.replace(load, f"{load}\n    x = tl.where(x != x, 0.0, x)")  # gelu(NaN) comes out 0
    dropped = cpu_evaluator.evaluate(gelu_problem, drops_nan, name="drops_nan")
    assert dropped.status is EvalStatus.CORRECT
    flagged = [flag for flag in dropped.flags if flag.startswith("nan_propagation")]
    assert flagged and "1 output elements are NaN in one of reference and candidate only" in flagged[0], dropped.flags
    kept = cpu_evaluator.evaluate(gelu_problem, candidate_source("correct_triton"))
    assert not [flag for flag in kept.flags if flag.startswith("nan_propagation")], kept.flags
