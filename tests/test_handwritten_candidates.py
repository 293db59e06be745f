"""Direct checks of the hand-written Triton candidates in benchmarks/candidates against their problems.

Each candidate is compared with its problem's reference Model on the problem's CPU-sized configs,
running its kernels through Triton's interpreter. Two further checks shrink the candidates' block
caps, so the column loops and multi-tile paths that the GPU-sized rows take run here too, and feed
column-major (non-contiguous) inputs, so the explicit strides are exercised.
"""

import os

# Before anything can import triton: kernels are decorated at candidate import and must run on the
# CPU interpreter here (tests/conftest.py sets the same default).
os.environ.setdefault("TRITON_INTERPRET", "1")

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "eval_harness" / "problems"
CANDIDATES = ROOT / "benchmarks" / "candidates"

NAMES = [
    "fused_bias_gelu_scale",
    "softmax_rows",
    "layernorm_affine",
    "reduction_row_sum",
    "loss_cross_entropy",
    "rmsnorm_rows",
]

# Candidate module constants that cap a column block; shrinking them makes the small configs take
# the looped / several-tiles-per-row paths that the default GPU sizes take.
SMALL_BLOCK_CAPS = {
    "fused_bias_gelu_scale": {"MAX_BLOCK_C": 64, "TILE": 128},
    "softmax_rows": {"MAX_FUSED_COLS": 64, "LOOP_BLOCK": 64},
    "layernorm_affine": {"MAX_FUSED_COLS": 64, "LOOP_BLOCK": 64},
    "reduction_row_sum": {"MAX_BLOCK_C": 64, "TILE": 128},
    "loss_cross_entropy": {"MAX_BLOCK": 64, "MEAN_BLOCK": 16},
    "rmsnorm_rows": {"MAX_FUSED_COLS": 64, "LOOP_BLOCK": 64},
}

SEEDS = (0, 1)
TOLERANCE = {"atol": 1e-4, "rtol": 1e-4}


def _load(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_pair(name: str, config: str) -> tuple[ModuleType, ModuleType]:
    """A fresh problem module with `config`'s size overrides applied, and its candidate module."""
    problem = _load(PROBLEMS / f"{name}.py", f"_problem_{name}")
    overrides = problem.KEVOLVE_CONFIGS[config]
    for key, value in overrides.items():
        assert hasattr(problem, key), f"{name}: config {config} overrides unknown constant {key}"
        setattr(problem, key, value)
    candidate = _load(CANDIDATES / f"{name}.py", f"_candidate_{name}")
    return problem, candidate


def _check(problem: ModuleType, candidate: ModuleType, column_major: bool = False) -> None:
    for seed in SEEDS:
        torch.manual_seed(seed)
        model = problem.Model(*problem.get_init_inputs())
        torch.manual_seed(seed)
        model_new = candidate.ModelNew(*problem.get_init_inputs())
        reference_state = model.state_dict()
        new_state = model_new.state_dict()
        assert list(new_state) == list(reference_state)
        for key, value in reference_state.items():
            torch.testing.assert_close(new_state[key], value, atol=0, rtol=0)

        torch.manual_seed(1000 + seed)
        inputs = problem.get_inputs()
        if column_major:
            # Same values, transposed memory layout: stride(1) != 1 for every 2-D float input.
            inputs = [x.t().contiguous().t() if x.is_floating_point() and x.dim() == 2 else x for x in inputs]
        with torch.no_grad():
            expected = model(*inputs)
            actual = model_new(*inputs)
        assert actual.shape == expected.shape and actual.dtype == expected.dtype
        torch.testing.assert_close(actual, expected, **TOLERANCE)


@pytest.mark.parametrize("config", ["small", "small_odd"])
@pytest.mark.parametrize("name", NAMES)
def test_candidate_matches_problem(name: str, config: str) -> None:
    problem, candidate = _load_pair(name, config)
    _check(problem, candidate)


@pytest.mark.parametrize("name", NAMES)
def test_candidate_multi_block_paths(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    problem, candidate = _load_pair(name, "small_odd")
    for constant, value in SMALL_BLOCK_CAPS[name].items():
        assert hasattr(candidate, constant), f"{name}: candidate has no {constant}"
        monkeypatch.setattr(candidate, constant, value)
    _check(problem, candidate)


@pytest.mark.parametrize("name", NAMES)
def test_candidate_strided_inputs(name: str) -> None:
    problem, candidate = _load_pair(name, "small_odd")
    _check(problem, candidate, column_major=True)
