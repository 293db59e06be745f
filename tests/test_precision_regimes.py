"""Precision regimes end to end on the CPU: the command line resolves one, the worker applies it per request,
baselines are cached per regime, tolerances follow it, and files from before regimes still load."""

import argparse
from types import SimpleNamespace

import pytest
import torch

from harness_helpers import FAST_SETTINGS
from kevolve.eval_harness import dynamic_checks
from kevolve.eval_harness.environment import describe, hardware_spec_for
from kevolve.eval_harness.evaluation import evaluate
from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.failures import StageFailure
from kevolve.eval_harness.integrity import IntegritySnapshot
from kevolve.eval_harness.precision import DType, MathMode, Precision, apply, resolve
from kevolve.eval_harness.protocol import EvaluateRequest
from kevolve.eval_harness.results import ErrorKind, EvalResult, EvalStatus
from kevolve.eval_harness.session import WorkerSession
from kevolve.eval_harness.settings import EvalSettings
from kevolve.eval_harness.tolerances import governing_switches, regime_tolerance, tf32_applies
from kevolve.eval_harness.worker import preload_compiler
from kevolve.graph.campaign.spec import CampaignSpec
from kevolve.graph.state import TaskSpec, initial_state
from kevolve.graph.summary import render_summary
from kevolve.options import UsageError, add_evaluation_options, settings_from

EXACT, TF32, BF16, FP16 = (resolve(p) for p in (Precision.EXACT, Precision.TF32, Precision.BF16, Precision.FP16))


def _parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_evaluation_options(parser)
    return parser.parse_args(list(argv))


def test_default_is_resolved_from_the_callers_flags_on_the_command_line(restore_flags):
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("medium")
    math = settings_from(_parsed()).math
    assert math == MathMode(precision=Precision.DEFAULT, dtype=DType.FLOAT32, cudnn_tf32=False,
                            matmul_precision="medium")
    assert settings_from(_parsed("--precision", "bf16")).math == BF16


def test_the_old_dtype_option_is_a_clear_usage_error():
    with pytest.raises(UsageError, match="--precision"):
        settings_from(_parsed("--dtype", "bfloat16"))


def _cpu_session(tmp_path) -> WorkerSession:
    """A worker's session in this process, set up as the worker sets it up (compiler loaded before the snapshot)."""
    preload_compiler()
    device = torch.device("cpu")
    spec = hardware_spec_for(device)
    return WorkerSession(device=device, spec=spec, environment=describe(device, spec), l2_flush_bytes=0,
                         workdir=tmp_path, integrity=IntegritySnapshot())


def test_the_worker_applies_each_requests_regime_before_anything_runs(gelu_problem, tmp_path, restore_flags):
    session = _cpu_session(tmp_path)
    for mode in (TF32, EXACT, BF16):
        settings = FAST_SETTINGS.model_copy(update={"math": mode, "profile": False})
        request = EvaluateRequest(problem=gelu_problem, candidate_source=None, settings=settings)
        result = evaluate(session, request, lambda stage: None)
        assert result.status is EvalStatus.CORRECT, result.error
        assert result.math == mode and result.reference_switches == []  # GELU: no convolution, no product
        assert torch.backends.cudnn.allow_tf32 is mode.cudnn_tf32
        assert torch.get_float32_matmul_precision() == mode.matmul_precision
    # One worker, three regimes: three baselines, none answered for another regime.
    assert len([key for key in session.facts if key[0] == "baselines"]) == 3


def test_a_candidate_that_switches_the_flags_fails_the_dynamic_check(restore_flags):
    apply(EXACT)
    dynamic_checks.check_math_mode(EXACT)
    torch.backends.cudnn.allow_tf32 = True
    with pytest.raises(StageFailure) as failure:
        dynamic_checks.check_math_mode(EXACT)
    assert failure.value.kind is ErrorKind.POLICY_VIOLATION
    assert "cuDNN TF32 on" in failure.value.message


def test_the_baseline_cache_key_holds_the_regime(gelu_problem, tmp_path):
    device = torch.device("cpu")
    worker = SimpleNamespace(environment=describe(device, hardware_spec_for(device)))
    files = set()
    for mode in (EXACT, TF32, resolve(Precision.DEFAULT), BF16):
        evaluator = Evaluator("cpu", settings=EvalSettings(math=mode), cache_dir=tmp_path)
        evaluator.worker = lambda: worker
        files.add(evaluator._cache_file(gelu_problem))
    assert len(files) == 4


def test_tolerances_per_regime():
    assert regime_tolerance(EXACT, tf32=False).atol == 1e-4
    assert regime_tolerance(TF32, tf32=True).atol == 1e-2
    assert regime_tolerance(FP16, tf32=False).atol == 1e-2
    assert regime_tolerance(BF16, tf32=False).atol == 5e-2
    # TF32 loosens a float32 regime only where it governs an operator the reference runs, on a GPU.
    convolution = governing_switches(frozenset({"aten::convolution", "aten::relu"}))
    linear = governing_switches(frozenset({"aten::linear", "aten::addmm"}))
    assert (convolution, linear, governing_switches(frozenset({"aten::softmax"}))) == (
        ["cudnn_tf32"], ["matmul_precision"], [])
    stock_default = MathMode(precision=Precision.DEFAULT, dtype=DType.FLOAT32, cudnn_tf32=True,
                             matmul_precision="highest")
    assert tf32_applies(stock_default, convolution, on_cuda=True)
    assert not tf32_applies(stock_default, linear, on_cuda=True)
    assert tf32_applies(TF32, linear, on_cuda=True)
    assert not tf32_applies(TF32, linear, on_cuda=False)
    assert not tf32_applies(BF16, convolution, on_cuda=True)


def test_settings_and_results_from_before_regimes_keep_the_numerics_they_ran_in():
    old = EvalSettings.model_validate({"dtype": "bfloat16", "correctness_trials": 2})
    assert old.math == MathMode(precision=Precision.BF16, dtype=DType.BFLOAT16, cudnn_tf32=False,
                                matmul_precision="highest")
    assert EvalSettings.model_validate({"dtype": "float32"}).math == EXACT
    result = EvalResult.model_validate({"problem": "p", "problem_sha256": "0", "candidate_sha256": None,
                                        "dtype": "float32", "status": "correct"})
    assert result.math == EXACT


def test_a_task_keeps_its_regime_and_old_task_files_load(tmp_path):
    task = TaskSpec(run_id="r", problem_path="/p.py", problem_name="p", devices=["cpu"], policy="strict",
                    evaluation=EvalSettings(math=TF32))
    again = TaskSpec.model_validate_json(task.model_dump_json())
    assert again.math == TF32 and again.dtype == "float32"
    assert f"precision {TF32.label}" in render_summary(initial_state(again))
    old = {"run_id": "r", "problem_path": "/p.py", "problem_name": "p", "devices": ["cpu"], "policy": "strict",
           "dtype": "float16", "evaluation": {"dtype": "float16"}}
    assert TaskSpec.model_validate(old).math.precision is Precision.FP16


def test_a_campaign_spec_resolves_its_precision_once(restore_flags):
    torch.backends.cudnn.allow_tf32 = True
    spec = CampaignSpec.model_validate({"name": "c", "problems": ["x.py"], "devices": ["cpu"]})
    assert spec.evaluation_settings().math.precision is Precision.DEFAULT
    stored = spec.model_dump_json()
    torch.backends.cudnn.allow_tf32 = False  # a resume elsewhere keeps the mode the campaign started with
    assert CampaignSpec.model_validate_json(stored).evaluation_settings().math.cudnn_tf32 is True
    legacy = CampaignSpec.model_validate({"name": "c", "problems": ["x.py"], "devices": ["cpu"], "dtype": "bfloat16"})
    assert legacy.precision is Precision.BF16 and legacy.evaluation_settings().dtype is DType.BFLOAT16
    with pytest.raises(ValueError, match="precision"):
        CampaignSpec.model_validate({"name": "c", "problems": ["x.py"], "devices": ["cpu"],
                                     "evaluation": {"dtype": "float16"}})
    built = CampaignSpec(name="c", problems=["x.py"], devices=["cpu"], precision=Precision.FP16,
                         evaluation=EvalSettings(correctness_trials=2))
    assert built.evaluation_settings().math == FP16 and built.evaluation_settings().correctness_trials == 2
