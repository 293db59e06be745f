"""Speed of light, kernel profiles, the review of implausible results, and the profile summary."""

import json
import subprocess
import sys
from pathlib import Path

import torch

from harness_helpers import CANDIDATES
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.eval_harness.profile_summary import render_profile_summary
from kevolve.eval_harness.results import EvalResult, ProblemSanity, SpeedComparison, SpeedOfLight
from kevolve.eval_harness.review import review_reasons
from kevolve.eval_harness.roofline import count_flops, minimum_bytes, percent_of_light, speed_of_light
from kevolve.eval_harness.settings import DType
from kevolve.eval_harness.timing import summarize
from kevolve.hardware_specs import load_spec

H100 = load_spec("h100_sxm")


def test_a_matrix_product_is_compute_bound_with_2mnk_flops():
    model = torch.nn.Linear(512, 256, bias=False)
    inputs = [torch.randn(1024, 512)]
    assert count_flops(model, inputs) == 2 * 1024 * 512 * 256
    sol = speed_of_light(model, inputs, dtype=DType.FLOAT32, spec=H100)
    assert sol.bytes == 4 * (1024 * 512 + 1024 * 256 + 512 * 256)
    assert sol.peak_tflops == 67 and sol.peak_unit == "float32 vector"
    assert sol.flop_floor_ms == 2 * 1024 * 512 * 256 / 67e12 * 1e3
    assert sol.bound == "compute"
    assert sol.floor_ms == max(sol.flop_floor_ms, sol.byte_floor_ms)


def test_an_elementwise_op_is_memory_bound_and_half_precision_uses_tensor_peaks():
    model = torch.nn.GELU()
    inputs = [torch.randn(1 << 20)]
    sol = speed_of_light(model, inputs, dtype=DType.FLOAT32, spec=H100)
    assert sol.flops == 0
    assert sol.bound == "memory"
    assert sol.byte_floor_ms == minimum_bytes(model, inputs, [torch.empty(1 << 20)]) / 3350e9 * 1e3
    assert percent_of_light(sol, sol.floor_ms * 2) == 50.0
    linear = torch.nn.Linear(64, 64).to(torch.bfloat16)
    half = speed_of_light(linear, [torch.randn(8, 64, dtype=torch.bfloat16)], dtype=DType.BFLOAT16, spec=H100)
    assert half.peak_unit == "bfloat16 tensor"


def test_without_a_meaningful_spec_only_the_counts_are_given():
    sol = speed_of_light(torch.nn.GELU(), [torch.randn(10)], dtype=DType.FLOAT32, spec=load_spec("cpu_interpreter"))
    assert sol.bytes == 80 and sol.floor_ms is None and sol.bound is None


def _comparison(speedup):
    return SpeedComparison(baseline="compiled", speedup=speedup, ci_low=speedup, ci_high=speedup, verdict="faster")


def test_results_too_good_to_be_true_wait_for_a_person():
    timing = summarize([0.05] * 10, method="cuda_events", l2_flushed=True, input_sets=1)
    sol = SpeedOfLight(flops=0, bytes=10**9, floor_ms=0.3, bound="memory")
    reasons = review_reasons(timing, [_comparison(12.0)], sol, ProblemSanity(degenerate_reasons=["x"]))
    assert any("degenerate problem" in r for r in reasons)
    assert any("over the plausible 10x" in r for r in reasons)
    assert any("below the speed-of-light floor" in r for r in reasons)
    plausible = summarize([0.4] * 10, method="cuda_events", l2_flushed=True, input_sets=1)
    assert review_reasons(plausible, [_comparison(3.0)], sol, ProblemSanity()) == []


def test_a_held_result_has_no_fitness():
    result = EvalResult(problem="p", problem_sha256="0", candidate_sha256="1", dtype="float32", status="correct",
                        comparisons=[_comparison(3.0)], review_required=["too fast"])
    assert not result.accepted and result.fitness == 0.0
    assert result.model_copy(update={"review_required": []}).fitness == 3.0


def test_a_degenerate_problem_is_flagged_from_its_baselines(cpu_evaluator):
    from kevolve.eval_harness import load_problem

    near_constant = load_problem(Path(__file__).parent / "adversarial" / "problems" / "near_constant.py")
    sanity = cpu_evaluator.baselines(near_constant).problem_sanity
    assert "the output is within tolerance of a constant known in advance" in sanity.degenerate_reasons
    assert cpu_evaluator.baselines(load_problem(SUITE_DIR / "softmax_rows.py")).problem_sanity.degenerate_reasons == []


def test_kevolve_profile_prints_a_short_summary_and_keeps_the_full_data(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "kevolve", "profile", str(SUITE_DIR / "elementwise_gelu_tanh.py"), "--candidate",
         str(CANDIDATES / "correct_triton.py"), "--device", "cpu", "--timing-trials", "5", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "_gelu_tanh_kernel: x1" in run.stdout
    assert "MB minimum traffic" in run.stdout
    assert "hardware counters: not available (no GPU" in run.stdout
    assert len(run.stdout.split()) < 300, "short enough for a prompt"
    saved = json.loads((tmp_path / "elementwise_gelu_tanh-correct_triton.json").read_text())
    assert saved["profile"]["kernels"][0]["name"] == "_gelu_tanh_kernel"
    assert render_profile_summary(EvalResult.model_validate(saved)) in run.stdout
