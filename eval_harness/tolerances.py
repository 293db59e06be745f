"""How close a candidate's outputs must be to the reference's, per precision regime (docs/precision.md says why).

The reference runs in the evaluation's own regime, so a tolerance covers two computations' rounding
in that regime (the reference's, op by op, and the candidate's, fused), not a distance from exact math.
"""

from __future__ import annotations

from .precision import DType, MathMode
from .results import Tolerance

# fp32 keeps KernelBench's 1e-4: far above fp32's roundoff, it absorbs reduction order and the libraries'
# transcendental functions, and results kevolve reported before regimes existed stay comparable.
EXACT = Tolerance(atol=1e-4, rtol=1e-4)
# About 20 unit roundoffs of TF32 and fp16 (unit roundoff 2^-11): rounding the inputs of a length-K product, the
# reference's rounding after each of its ops, and the candidate's once at its store.
TF32 = Tolerance(atol=1e-2, rtol=1e-2)
HALF = {DType.FLOAT16: Tolerance(atol=1e-2, rtol=1e-2),
        # bfloat16 keeps 8 bits: 5e-2 is about 13 unit roundoffs, the same few ops' worth as fp16's 1e-2.
        DType.BFLOAT16: Tolerance(atol=5e-2, rtol=5e-2)}

# ATen operators each TF32 switch governs: cuDNN's flag the convolutions (and RNNs), the float32 matmul
# precision cuBLAS's matrix products. Names as torch.profiler reports them, nested calls included.
CUDNN_TF32_OPS = frozenset({
    "aten::convolution", "aten::_convolution", "aten::cudnn_convolution", "aten::cudnn_convolution_transpose",
    "aten::_cudnn_rnn",
})
MATMUL_TF32_OPS = frozenset({"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::addbmm", "aten::matmul",
                             "aten::linear", "aten::_addmm_activation"})


# The MathMode fields that are switches, as `governing_switches` names them.
CUDNN_SWITCH, MATMUL_SWITCH = "cudnn_tf32", "matmul_precision"


def governing_switches(reference_ops: frozenset[str]) -> list[str]:
    """The regime's switches that decide the reference's numerics: those governing an operator it runs."""
    return [switch for switch, ops in ((CUDNN_SWITCH, CUDNN_TF32_OPS), (MATMUL_SWITCH, MATMUL_TF32_OPS))
            if reference_ops & ops]


def tf32_applies(mode: MathMode, switches: list[str], *, on_cuda: bool) -> bool:
    """Whether the reference computes anything in TF32 in `mode`: a float32 regime on a GPU that turns on a
    switch governing one of the reference's operators (`switches`, from governing_switches)."""
    if not on_cuda or mode.dtype is not DType.FLOAT32:
        return False
    return (mode.cudnn_tf32 and CUDNN_SWITCH in switches) or (mode.matmul_tf32 and MATMUL_SWITCH in switches)


def regime_tolerance(mode: MathMode, *, tf32: bool) -> Tolerance:
    """The tolerance of `mode`; `tf32` says whether the reference computes in TF32 there (tf32_applies)."""
    if mode.dtype is not DType.FLOAT32:
        return HALF[mode.dtype]
    return TF32 if tf32 else EXACT
