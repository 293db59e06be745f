"""The precision rules per regime: a candidate may compute in the regime's precision or above, never below it,
and TF32 in its matrix products only where the regime's mode lets PyTorch use it."""

import pytest

from kevolve.eval_harness.precision import DType, MathMode, Precision, resolve
from kevolve.eval_harness.settings import Policy
from kevolve.eval_harness.static_checks import check_source
from static_check_helpers import compose, of_rule

EXACT, TF32, BF16, FP16 = (resolve(p) for p in (Precision.EXACT, Precision.TF32, Precision.BF16, Precision.FP16))
# `default` as two users could have it: PyTorch's out-of-the-box flags, and matmul TF32 switched on.
DEFAULT_STOCK = MathMode(precision=Precision.DEFAULT, dtype=DType.FLOAT32, cudnn_tf32=True, matmul_precision="highest")
DEFAULT_HIGH = MathMode(precision=Precision.DEFAULT, dtype=DType.FLOAT32, cudnn_tf32=True, matmul_precision="high")

TF32_DOT = """
    @triton.jit
    def _mm_kernel(a_ptr, b_ptr, c_ptr, BLOCK: tl.constexpr):
        r = tl.arange(0, BLOCK)
        a = tl.load(a_ptr + r[:, None] * BLOCK + r[None, :])
        b = tl.load(b_ptr + r[:, None] * BLOCK + r[None, :])
        c = tl.dot(a, b, input_precision="tf32")
        tl.store(c_ptr + r[:, None] * BLOCK + r[None, :], c)
    class ModelNew(nn.Module):
        def forward(self, a, b):
            c = torch.empty_like(a)
            _mm_kernel[(1,)](a, b, c, BLOCK=16)
            return c
"""
IMPLICIT_DOT = TF32_DOT.replace(', input_precision="tf32"', "")


def _convert(expression: str) -> str:
    return compose(f"""
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch({expression})
    """)


def _downcasts(source: str, mode: MathMode) -> list:
    return of_rule(check_source(source, policy=Policy.STRICT, math=mode), "precision_downcast")


@pytest.mark.parametrize(("mode", "refused"), [(EXACT, True), (DEFAULT_STOCK, True), (DEFAULT_HIGH, False),
                                               (TF32, False), (BF16, False), (FP16, False)])
def test_tf32_products_only_where_the_regime_allows_them(mode, refused):
    assert bool(_downcasts(compose(TF32_DOT), mode)) is refused
    implicit = of_rule(check_source(compose(IMPLICIT_DOT), policy=Policy.STRICT, math=mode), "implicit_tf32")
    assert bool(implicit) is refused


@pytest.mark.parametrize(("expression", "mode", "refused"), [
    ("x.half()", EXACT, True), ("x.half()", TF32, True), ("x.bfloat16()", DEFAULT_HIGH, True),
    ("x.to(torch.bfloat16)", FP16, True),  # fewer mantissa bits than fp16
    ("x.half()", BF16, False),  # more mantissa bits than bf16
    ("x.to(torch.float16)", FP16, False), ("x.bfloat16()", BF16, False),
    ("x.to(torch.float8_e4m3fn)", BF16, True), ("x.to(torch.float8_e5m2)", FP16, True),
])
def test_downcasts_below_the_regime_dtype_are_refused_in_every_regime(expression, mode, refused):
    assert bool(_downcasts(_convert(expression), mode)) is refused


@pytest.mark.parametrize("mode", [EXACT, DEFAULT_STOCK, DEFAULT_HIGH, TF32, BF16, FP16])
def test_switching_the_regime_flags_is_refused_in_every_regime(mode):
    source = compose("""
        torch.backends.cudnn.allow_tf32 = True  # <-
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch(x)
    """)
    assert _downcasts(source, mode)


def test_setting_the_matmul_precision_the_regime_already_has_is_harmless():
    source = compose("""
        torch.set_float32_matmul_precision("high")
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch(x)
    """)
    assert not _downcasts(source, TF32)
    assert _downcasts(source, EXACT)


def test_cuda_conversions_are_judged_against_the_regime():
    source = compose('''
        from torch.utils.cpp_extension import load_inline
        SRC = """
        __global__ void k(const float* x, __nv_bfloat16* y) { y[0] = __float2bfloat16(x[0]); }
        """
        ext = load_inline(name="k", cpp_sources="", cuda_sources=SRC, functions=[])
        class ModelNew(nn.Module):
            def forward(self, x):
                return launch(x)
    ''')
    assert _downcasts(source, EXACT) and _downcasts(source, FP16)
    assert not _downcasts(source, BF16)
