"""Which reduced-precision formats a candidate may compute in, per regime: never below the regime's own.

Formats are ranked by the mantissa bits they keep. A tensor format at least as precise as the regime's
dtype is allowed (fp16 inside a bf16 evaluation keeps more bits than bf16); TF32 is not a storage format
but a way matrix products and convolutions read fp32 operands, allowed where the regime lets PyTorch use it.
"""

from __future__ import annotations

from ..precision import DType, MathMode

# float8 stands for fp4 too: both are below every regime.
_MANTISSA_BITS = {DType.FLOAT32: 23, DType.FLOAT16: 10, DType.BFLOAT16: 7, DType.FLOAT8: 3}


def format_of(name: str) -> DType:
    """The format a low-precision dtype name, Triton option or CUDA intrinsic stands for."""
    lowered = name.lower()
    if "float8" in lowered or "fp8" in lowered or "fp4" in lowered or "dot_scaled" in lowered:
        return DType.FLOAT8
    if "tf32" in lowered:
        return DType.TF32
    if "bfloat16" in lowered or "bf16" in lowered or "16bf" in lowered:  # CUBLAS_COMPUTE_32F_FAST_16BF
        return DType.BFLOAT16
    return DType.FLOAT16  # torch.half, HalfTensor, __float2half, tl.float16, CUBLAS_COMPUTE_32F_FAST_16F


def allowed(fmt: DType, mode: MathMode) -> bool:
    """Whether computing in `fmt` keeps the precision `mode` promises."""
    if fmt is DType.TF32:
        # Half-precision operands lose nothing to TF32's 10 bits; fp32 ones only where the caller's flags allow.
        return mode.dtype is not DType.FLOAT32 or mode.matmul_tf32
    return _MANTISSA_BITS[fmt] >= _MANTISSA_BITS[mode.dtype]


def regime_text(mode: MathMode) -> str:
    """How a finding names the regime it judged against."""
    return f"the {mode.precision.value} regime ({mode.dtype.value}" + (
        ", TF32 matmuls allowed)" if mode.matmul_tf32 else ")")
