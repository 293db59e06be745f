"""fast_p over all problems, geometric means, and speed verdicts that respect noise."""

import random

import pytest
import torch

from kevolve.eval_harness.compare import Verdict, compare_timings
from kevolve.eval_harness.results import ErrorKind, EvalResult, EvalStatus, SpeedComparison, Tolerance
from kevolve.eval_harness.scoring import fast_p, geometric_mean, score_suite
from kevolve.eval_harness.tensors import as_output_list, compare_outputs, same_bits
from kevolve.eval_harness.timing import summarize


def _samples(median: float, spread: float, n: int = 200, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [median * (1 + rng.uniform(-spread, spread)) for _ in range(n)]


def _stats(samples):
    return summarize(samples, method="cuda_events", l2_flushed=True, input_sets=4)


def test_a_clear_speedup_is_faster_with_an_interval_around_it():
    comparison = compare_timings("eager", _stats(_samples(2.0, 0.05)), _stats(_samples(1.0, 0.05, seed=1)))
    assert comparison.verdict == Verdict.FASTER
    assert comparison.ci_low < comparison.speedup < comparison.ci_high
    assert comparison.speedup == pytest.approx(2.0, rel=0.05)


def test_a_difference_inside_the_noise_is_indistinguishable():
    comparison = compare_timings("eager", _stats(_samples(1.0, 0.3, n=30)), _stats(_samples(1.01, 0.3, n=30, seed=2)))
    assert comparison.verdict == Verdict.INDISTINGUISHABLE


def test_a_slowdown_is_slower():
    comparison = compare_timings("eager", _stats(_samples(1.0, 0.02)), _stats(_samples(1.5, 0.02, seed=3)))
    assert comparison.verdict == Verdict.SLOWER


def test_timing_summary_keeps_raw_samples_and_quartiles():
    stats = _stats([1.0, 2.0, 3.0, 4.0, 100.0])
    assert stats.median_ms == 3.0
    assert (stats.q1_ms, stats.q3_ms) == (2.0, 4.0)
    assert stats.min_ms == 1.0 and stats.max_ms == 100.0
    assert stats.samples_ms == [1.0, 2.0, 3.0, 4.0, 100.0]


def _result(status: EvalStatus, speedup: float | None, ci_low: float | None = None) -> EvalResult:
    comparisons = []
    if speedup is not None:
        low = speedup if ci_low is None else ci_low
        comparisons = [SpeedComparison(baseline="eager", speedup=speedup, ci_low=low, ci_high=speedup * 1.1,
                                       verdict="faster")]
    return EvalResult(problem="p", problem_sha256="0", candidate_sha256="1", dtype="float32", status=status,
                      comparisons=comparisons)


def test_fast_p_counts_every_problem_and_only_correct_speedups():
    results = [
        _result(EvalStatus.CORRECT, 2.5),
        _result(EvalStatus.CORRECT, 1.2),
        _result(EvalStatus.CORRECT, 0.8),
        _result(EvalStatus.INCORRECT, None),
        None,  # no candidate at all
    ]
    score = score_suite(results)
    eager = next(s for s in score.scores if s.baseline == "eager")
    assert eager.fast_p == {"0": 0.6, "1": 0.4, "1.5": 0.2, "2": 0.2}
    assert eager.geomean_speedup == pytest.approx((2.5 * 1.2 * 0.8) ** (1 / 3))
    compiled = next(s for s in score.scores if s.baseline == "compiled")
    assert compiled.fast_p["0"] == 0.0, "no compile comparison means no success against it"
    assert score.correct == 3


def test_fast_p_needs_the_whole_interval_above_p_and_the_point_score_does_not():
    score = score_suite([_result(EvalStatus.CORRECT, 1.02, ci_low=0.97), _result(EvalStatus.CORRECT, 1.6, ci_low=1.55)])
    eager = next(s for s in score.scores if s.baseline == "eager")
    assert eager.fast_p["1"] == 0.5, "a 1.02x median inside the noise is not a win"
    assert eager.fast_p_point["1"] == 1.0
    assert eager.fast_p["1.5"] == eager.fast_p_point["1.5"] == 0.5


def test_fast_p_and_geomean_edge_cases():
    assert fast_p([], [], 1.0) == 0.0
    assert fast_p([3.0], [False], 1.0) == 0.0
    assert geometric_mean([]) is None


TOLERANCE = Tolerance(atol=1e-4, rtol=1e-4)


def test_output_comparison_reports_worst_errors_and_counts():
    reference = torch.ones(100)
    candidate = reference.clone()
    candidate[7] += 0.5
    check = compare_outputs([candidate], [reference], TOLERANCE)
    assert check.kind is ErrorKind.OUTPUT_MISMATCH
    assert check.mismatched == 1 and check.total == 100
    assert check.max_abs_error == pytest.approx(0.5)


def test_nan_never_passes_and_matching_infinities_do():
    reference = torch.tensor([1.0, float("inf")])
    assert compare_outputs([reference.clone()], [reference], TOLERANCE).kind is None
    assert compare_outputs([torch.tensor([float("nan"), float("inf")])], [reference], TOLERANCE).kind is (
        ErrorKind.NON_FINITE_OUTPUT
    )
    # Where the reference is infinite, only that infinity will do: `rtol * inf` must not admit any finite value.
    for wrong in (3.0e38, -float("inf"), 0.0):
        check = compare_outputs([torch.tensor([1.0, wrong])], [reference], TOLERANCE)
        assert check.kind is ErrorKind.OUTPUT_MISMATCH and check.mismatched == 1, wrong


def test_values_within_tolerance_pass():
    reference = torch.linspace(-3, 3, 50)
    check = compare_outputs([reference + 5e-5], [reference], TOLERANCE)
    assert check.kind is None
    assert check.max_abs_error == pytest.approx(5e-5, rel=1e-2)  # fp32 rounding of the sum


def test_bit_comparison_sees_any_change_and_survives_nan():
    x = torch.randn(1000)
    x[3] = float("nan")
    original = x.clone()
    assert same_bits([x, 3], [original, 3])
    x[999] = x[999] + 1e-6
    assert not same_bits([x, 3], [original, 3])
    zeros = torch.zeros(4)
    assert not same_bits([-zeros], [zeros]), "-0.0 is a write too"


def test_large_outputs_are_compared_in_chunks_with_exact_counts(monkeypatch):
    import kevolve.eval_harness.tensors as tensors

    monkeypatch.setattr(tensors, "_COMPARE_CHUNK", 7)
    reference = torch.linspace(0, 1, 100)
    candidate = reference.clone()
    candidate[[5, 50, 99]] += 1.0
    check = compare_outputs([candidate], [reference], TOLERANCE)
    assert (check.mismatched, check.total) == (3, 100)
    assert check.max_abs_error == pytest.approx(1.0)


def test_a_tiny_but_tight_difference_is_not_called_faster():
    comparison = compare_timings("compiled", _stats(_samples(1.005, 0.001)), _stats(_samples(1.0, 0.001, seed=4)))
    assert comparison.ci_low > 1.0, "the interval alone would call it faster"
    assert comparison.verdict == Verdict.INDISTINGUISHABLE


def test_scrub_leaves_no_answer_in_memory_but_spares_what_outputs_alias():
    from kevolve.eval_harness.tensors import scrub

    weights, result, indices = torch.ones(4), torch.arange(4.0), torch.arange(3)
    scrub([result, weights.view(2, 2), indices, "not a tensor"], keep=[weights])
    assert torch.isnan(result).all()
    assert torch.equal(weights, torch.ones(4)), "an output that aliases the weights is left alone"
    assert (indices == torch.iinfo(torch.int64).min).all()


def test_nested_outputs_are_compared_leaf_by_leaf_and_by_their_grouping():
    logits, ctr, cvr = torch.randn(4, 3), torch.rand(4), torch.rand(4)
    reference = as_output_list((logits, (ctr, cvr)))
    same = as_output_list((logits.clone(), (ctr.clone(), cvr.clone())))
    assert compare_outputs(same, reference, TOLERANCE).kind is None
    assert compare_outputs(as_output_list({"a": logits, "b": [ctr, cvr]}),
                           as_output_list({"a": logits, "b": [ctr, cvr]}), TOLERANCE).kind is None
    off = as_output_list((logits, (ctr + 1.0, cvr)))
    assert compare_outputs(off, reference, TOLERANCE).kind is ErrorKind.OUTPUT_MISMATCH
    regrouped = as_output_list(((logits, ctr), cvr))  # the same tensors, grouped otherwise
    check = compare_outputs(regrouped, reference, TOLERANCE)
    assert check.kind is ErrorKind.OUTPUT_MISMATCH and "grouped as" in check.message
