"""What a precision regime changes in the generated code: the dtype a reference is traced in, and how a GEMM's
`tl.dot` treats fp32 operands.

Kernels load every floating tensor as fp32 and compute in fp32 in every regime; values leave a kernel in the
dtype the reference gives them (traced at the regime's dtype), so a half regime reads and writes half the bytes.
"""

from __future__ import annotations

from kevolve.eval_harness.precision import DType, MathMode, Precision, resolve

EXACT = resolve(Precision.EXACT)


def dot_precision(mode: MathMode) -> str | None:
    """`tl.dot`'s input_precision: TF32 tensor cores only where the regime lets PyTorch's own matmuls use TF32.

    None for half operands: they are tensor-core inputs as they are, and the product accumulates in fp32.
    """
    if mode.dtype is not DType.FLOAT32:
        return None
    return "tf32" if mode.matmul_tf32 else "ieee"


def dot_call(a: str, b: str, mode: MathMode) -> str:
    precision = dot_precision(mode)
    return f"tl.dot({a}, {b}" + (f', input_precision="{precision}")' if precision else ")")
