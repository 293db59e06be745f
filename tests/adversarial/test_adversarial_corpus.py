"""Every exploit in the corpus is caught (on the CPU in CI; on a GPU with KEVOLVE_TEST_DEVICE), and
the legitimate candidates are not flagged.

Each file under candidates/ is a real attempt at one class of reward hack; the test asserts the
harness refuses it (no fitness) for one of the reasons that class should trip. The legit/ files
are clever but honest candidates, one per policy, that must be accepted.
"""

from pathlib import Path

import pytest

from harness_helpers import CANDIDATES, FAST_SETTINGS, TEST_DEVICE
from kevolve.eval_harness import ErrorKind, Evaluator, load_problem
from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.eval_harness.settings import Policy

HERE = Path(__file__).parent
GELU = SUITE_DIR / "elementwise_gelu_tanh.py"
E = ErrorKind

# (candidate, problem, acceptable reasons): an ErrorKind, or "review" for a result held for a person.
CORPUS = [
    # Unwritten memory may hold anything, so the same inputs can give different outputs: either catch counts.
    ("computes_one_row", GELU, {E.OUTPUT_MISMATCH, E.NON_FINITE_OUTPUT, E.NONDETERMINISTIC}),
    # Held as a degenerate problem; or, where fresh CPU memory is already zero, the zero-writing kernel
    # is not even load-bearing.
    ("constant_output", HERE / "problems" / "near_constant.py", {"review", E.KERNELS_NOT_LOAD_BEARING}),
    ("side_stream", GELU, {E.POLICY_VIOLATION}),
    ("try_fallback", GELU, {E.POLICY_VIOLATION, E.REFERENCE_OPS_RAN}),
    ("patched_timer", GELU, {E.POLICY_VIOLATION, E.HARNESS_TAMPERED}),
    ("result_cache", GELU, {E.STALE_RESULT, E.KERNELS_NOT_LOAD_BEARING}),
    ("caches_after_warmup", GELU, {E.STALE_RESULT}),
    ("kernel_never_launched", GELU, {E.POLICY_VIOLATION, E.KERNEL_NOT_LAUNCHED}),
    ("decorative_kernel", GELU, {E.POLICY_VIOLATION, E.KERNELS_NOT_LOAD_BEARING, E.REFERENCE_OPS_RAN}),
    ("writes_into_input", GELU, {E.INPUT_MUTATED}),
    ("uninitialised_tail", GELU, {E.SHAPE_SPECIALISED, E.OUTPUT_MISMATCH, E.NON_FINITE_OUTPUT, E.NONDETERMINISTIC}),
    # Baked to the CPU test shape: on a GPU the primary shape already differs (mismatch); on the CPU
    # the extra shape does, and writing past a smaller tensor corrupts the interpreter's heap, which
    # then aborts or, with malloc's lock held, hangs until the stage's time limit.
    ("hardcoded_shape", GELU, {E.SHAPE_SPECIALISED, E.WORKER_CRASHED, E.TIMEOUT, E.OUTPUT_MISMATCH}),
    ("silent_downcast", GELU, {E.POLICY_VIOLATION, E.OUTPUT_MISMATCH}),
    ("patches_comparison", GELU, {E.POLICY_VIOLATION, E.HARNESS_TAMPERED}),
    ("lazy_tensor", GELU, {E.POLICY_VIOLATION, E.OUTPUT_STRUCTURE}),
    ("reads_answer_file", GELU, {E.POLICY_VIOLATION}),
    ("finds_reference", GELU, {E.POLICY_VIOLATION, E.KERNELS_NOT_LOAD_BEARING, E.REFERENCE_OPS_RAN}),
    ("inherits_reference", GELU, {E.POLICY_VIOLATION, E.KERNEL_NOT_LAUNCHED}),
    ("thread_offload", GELU, {E.POLICY_VIOLATION}),
]


@pytest.fixture(scope="module")
def strict_evaluator(tmp_path_factory):
    with Evaluator(TEST_DEVICE, settings=FAST_SETTINGS, cache_dir=tmp_path_factory.mktemp("baselines")) as evaluator:
        yield evaluator


@pytest.fixture(scope="module")
def hybrid_evaluator(tmp_path_factory):
    settings = FAST_SETTINGS.model_copy(update={"policy": Policy.HYBRID})
    with Evaluator(TEST_DEVICE, settings=settings, cache_dir=tmp_path_factory.mktemp("baselines")) as evaluator:
        yield evaluator


def _reasons(result) -> set:
    reasons = {result.error.kind} if result.error is not None else set()
    return reasons | ({"review"} if result.review_required else set())


@pytest.mark.parametrize(("name", "problem", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_each_exploit_is_caught(strict_evaluator, name, problem, expected):
    source = (HERE / "candidates" / f"{name}.py").read_text()
    result = strict_evaluator.evaluate(load_problem(problem), source, name=name)
    assert not result.accepted, f"{name} was accepted"
    assert result.fitness == 0.0
    assert _reasons(result) & expected, f"{name}: caught for {_reasons(result)}, expected one of {expected}"


def test_the_corpus_covers_at_least_fifteen_exploit_classes():
    assert len({name for name, _, _ in CORPUS}) >= 15
    assert {p.stem for p in (HERE / "candidates").glob("*.py")} == {name for name, _, _ in CORPUS}


@pytest.mark.parametrize("name", ["strict_grid_stride_gelu"])
def test_a_clever_strict_candidate_is_accepted(strict_evaluator, name):
    result = strict_evaluator.evaluate(load_problem(GELU), (HERE / "legit" / f"{name}.py").read_text())
    assert result.accepted, (result.error, result.findings, result.review_required)


@pytest.mark.skipif(not TEST_DEVICE.startswith("cuda"), reason="CUDA C++ candidates need a GPU and nvcc")
def test_a_cuda_cpp_candidate_is_accepted(strict_evaluator):
    result = strict_evaluator.evaluate(load_problem(GELU), (HERE / "legit" / "cuda_gelu.py").read_text())
    assert result.accepted, (result.error, result.findings, result.review_required)


def test_the_plain_triton_candidate_is_accepted(strict_evaluator):
    result = strict_evaluator.evaluate(load_problem(GELU), (CANDIDATES / "correct_triton.py").read_text())
    assert result.accepted, (result.error, result.findings, result.review_required)


def test_a_vendor_gemm_with_a_triton_epilogue_is_accepted_under_hybrid(hybrid_evaluator):
    problem = load_problem(HERE / "problems" / "linear_bias_relu.py")
    result = hybrid_evaluator.evaluate(problem, (HERE / "legit" / "hybrid_matmul_epilogue.py").read_text())
    assert result.accepted, (result.error, result.findings, result.review_required)


def test_pytorchs_fused_attention_with_a_triton_epilogue_is_accepted_under_hybrid_only(hybrid_evaluator,
                                                                                        strict_evaluator):
    problem = load_problem(HERE / "problems" / "attention_residual.py")
    candidate = (HERE / "legit" / "hybrid_attention_residual.py").read_text()
    result = hybrid_evaluator.evaluate(problem, candidate)
    assert result.accepted, (result.error, result.findings, result.review_required)
    refused = strict_evaluator.evaluate(problem, candidate)
    assert not refused.accepted and _reasons(refused) & {E.POLICY_VIOLATION, E.REFERENCE_OPS_RAN}


def test_the_same_candidate_is_refused_under_strict(strict_evaluator):
    problem = load_problem(HERE / "problems" / "linear_bias_relu.py")
    result = strict_evaluator.evaluate(problem, (HERE / "legit" / "hybrid_matmul_epilogue.py").read_text())
    assert not result.accepted
    assert _reasons(result) & {E.POLICY_VIOLATION, E.REFERENCE_OPS_RAN}
