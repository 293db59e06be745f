"""The `kevolve` command: verdicts and reports, and clear exits (never tracebacks) on bad input."""

import json
import subprocess
import sys

import pytest

from harness_helpers import CANDIDATES, FIXTURES
from kevolve.eval_harness.problems import SUITE_DIR

GELU = SUITE_DIR / "elementwise_gelu_tanh.py"
ADVERSARIAL = FIXTURES.parent / "adversarial" / "candidates"
FAST = ["--device", "cpu", "--trials", "2", "--timing-trials", "5", "--seed", "7"]


def kevolve(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "kevolve", *map(str, args)], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def _assert_clear_failure(run, message):
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert message in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", FIXTURES / "absent.py", "--candidate", CANDIDATES / "correct_triton.py"], "no such problem file"),
        (["eval", FIXTURES / "broken" / "no_model.py", "--candidate", CANDIDATES / "correct_triton.py"],
         "no `class Model`"),
        (["eval", FIXTURES / "broken" / "bad_syntax.py", "--candidate", CANDIDATES / "correct_triton.py"],
         "syntax error"),
        (["eval", GELU, "--candidate", FIXTURES / "absent.py"], "no such candidate file"),
        (["eval", GELU, "--candidate", CANDIDATES / "correct_triton.py", "--device", "cuda:7"], "not available"),
        (["eval", GELU, "--candidate", CANDIDATES / "correct_triton.py", "--device", "tpu"], "not a device"),
        (["bench", FIXTURES / "absent_dir"], "no such problem file"),
        (["bench", SUITE_DIR, "--only", "no_such_problem"], "no such problems"),
        (["eval", GELU, "--candidate", CANDIDATES / "correct_triton.py", "--dtype", "bfloat16"],
         "--dtype is replaced by --precision"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args, message):
    _assert_clear_failure(kevolve(*args), message)


def test_eval_json_verdict_for_a_correct_candidate():
    run = kevolve("eval", GELU, "--candidate", CANDIDATES / "correct_triton.py", "--json", "--precision", "tf32", *FAST)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "correct"
    # The regime travelled from the command line through the worker into the verdict.
    assert result["math"] == {"precision": "tf32", "dtype": "float32", "cudnn_tf32": True, "matmul_precision": "high"}
    assert result["environment"]["timing_meaningful"] is False


def test_eval_exits_1_for_a_wrong_candidate_and_says_why():
    run = kevolve("eval", GELU, "--candidate", ADVERSARIAL / "writes_into_input.py", *FAST)
    assert run.returncode == 1
    assert "input_mutated" in run.stdout


def test_a_candidate_refused_by_the_static_checks_names_rule_and_line():
    run = kevolve("eval", GELU, "--candidate", ADVERSARIAL / "thread_offload.py", *FAST)
    assert run.returncode == 1
    assert "policy_violation during static_check" in run.stdout
    assert "concurrency" in run.stdout


def test_the_policy_option_lets_a_vendor_gemm_through_only_under_hybrid():
    problem = FIXTURES.parent / "adversarial" / "problems" / "linear_bias_relu.py"
    candidate = FIXTURES.parent / "adversarial" / "legit" / "hybrid_matmul_epilogue.py"
    assert kevolve("eval", problem, "--candidate", candidate, "--policy", "hybrid", *FAST).returncode == 0
    strict = kevolve("eval", problem, "--candidate", candidate, *FAST)
    assert strict.returncode == 1
    assert "torch_compute" in strict.stdout


def test_a_problem_whose_inputs_raise_exits_nonzero_with_the_reason():
    run = kevolve("eval", FIXTURES / "broken" / "get_inputs_raises.py", "--candidate",
                  CANDIDATES / "correct_triton.py", *FAST)
    assert run.returncode == 1
    assert "problem_invalid" in run.stdout
    assert "the inputs cannot be built" in run.stdout


def test_bench_writes_json_and_markdown_for_a_kernelbench_folder(tmp_path):
    out = tmp_path / "bench.json"
    run = kevolve("bench", FIXTURES / "kernelbench_style", "--out", out, "--no-cache", *FAST)
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert [r["problem"] for r in report["records"]] == ["1_scale_rows", "10_row_max"]
    assert all(r["reference"]["baselines"]["eager"]["trials"] == 5 for r in report["records"])
    table = out.with_suffix(".md").read_text()
    assert "| 1_scale_rows |" in table
    assert "timings on this device are not meaningful" in table


def test_bench_with_candidates_scores_them(tmp_path):
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    (candidates / "elementwise_gelu_tanh.py").write_text((CANDIDATES / "correct_triton.py").read_text())
    out = tmp_path / "bench.json"
    run = kevolve("bench", SUITE_DIR, "--only", "elementwise_gelu_tanh", "--candidates", candidates,
                  "--out", out, "--no-cache", *FAST)
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["records"][0]["candidate"]["status"] == "correct"
    assert report["score"]["correct"] == 1
