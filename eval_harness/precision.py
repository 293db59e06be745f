"""Precision regimes: the numerics an evaluation runs in, for the reference, the baselines and the candidate alike.

A regime is what a user picks (`--precision`); a `MathMode` is what it means concretely on a device:
the dtype floating inputs and parameters take, and whether cuDNN convolutions and cuBLAS matrix
products may use TF32. `default` is resolved in the process of the person who asked (their PyTorch's
flags as they have them), then travels to the worker as a concrete `MathMode`, so that a run resumed
elsewhere, its cached baselines and its library records all name the same numerics.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kevolve.hardware_specs.dtypes import STORAGE_DTYPES, DType

MatmulPrecision = Literal["highest", "high", "medium"]


class Precision(StrEnum):
    EXACT = "exact"  # fp32, TF32 off everywhere: the reference as its source reads
    DEFAULT = "default"  # fp32 with PyTorch's own flags as the caller has them (cuDNN TF32 on out of the box)
    TF32 = "tf32"  # fp32 tensors, TF32 allowed in convolutions and matrix products
    BF16 = "bf16"  # inputs and parameters in bfloat16
    FP16 = "fp16"  # inputs and parameters in float16


# What `optimize`, campaigns, `eval`, `bench` and the chat judge in unless told: the numerics a user gets by
# running the reference unchanged. A kernel faster only with TF32 off is faster in a regime nobody deploys;
# bf16 and fp16 change the program's dtype, which is the user's decision, not a default's (docs/precision.md).
USER_DEFAULT = Precision.DEFAULT


class MathMode(BaseModel):
    """The concrete numerics of one regime on one machine; equal modes mean interchangeable results."""

    model_config = ConfigDict(frozen=True)

    precision: Precision
    dtype: DType
    cudnn_tf32: bool = Field(description="torch.backends.cudnn.allow_tf32")
    matmul_precision: MatmulPrecision = Field(description="torch.get_float32_matmul_precision(): 'highest' is no TF32")

    @field_validator("dtype")
    @classmethod
    def _a_storage_dtype(cls, dtype: DType) -> DType:
        if dtype not in STORAGE_DTYPES:
            raise ValueError(f"a regime stores tensors in {', '.join(sorted(STORAGE_DTYPES))}, not {dtype}")
        return dtype

    @property
    def matmul_tf32(self) -> bool:
        return self.matmul_precision != "highest"

    @property
    def label(self) -> str:
        """How every figure names its regime, e.g. `default (float32, cuDNN TF32 on, matmul highest)`."""
        return (f"{self.precision.value} ({self.dtype.value}, cuDNN TF32 {_on_off(self.cudnn_tf32)}, "
                f"matmul {self.matmul_precision})")

    @property
    def key(self) -> str:
        """A short stable string for cache keys and file names."""
        return f"{self.precision.value}-{self.dtype.value}-c{int(self.cudnn_tf32)}-m{self.matmul_precision}"


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


def resolve(precision: Precision) -> MathMode:
    """The regime made concrete; `default` reads this process's PyTorch flags (the caller's, not a worker's)."""
    if precision is Precision.DEFAULT:
        import torch

        return MathMode(precision=precision, dtype=DType.FLOAT32, cudnn_tf32=bool(torch.backends.cudnn.allow_tf32),
                        matmul_precision=torch.get_float32_matmul_precision())
    fixed: dict[Precision, tuple[DType, bool, MatmulPrecision]] = {
        Precision.EXACT: (DType.FLOAT32, False, "highest"),
        Precision.TF32: (DType.FLOAT32, True, "high"),
        # Half-precision regimes: the tensors are already below TF32's precision, and PyTorch's defaults
        # for any fp32 work left inside (cuDNN TF32 on, matmul highest) are what such a model runs with.
        Precision.BF16: (DType.BFLOAT16, True, "highest"),
        Precision.FP16: (DType.FLOAT16, True, "highest"),
    }
    dtype, cudnn_tf32, matmul = fixed[precision]
    return MathMode(precision=precision, dtype=dtype, cudnn_tf32=cudnn_tf32, matmul_precision=matmul)


# What `--dtype` meant before regimes existed, for task and campaign files written then.
_LEGACY_PRECISION: dict[DType, Precision] = {
    DType.FLOAT32: Precision.EXACT, DType.BFLOAT16: Precision.BF16, DType.FLOAT16: Precision.FP16,
}


def legacy_mode(dtype: DType) -> MathMode:
    """The mode an evaluation of `dtype` ran in before regimes existed: the worker switched TF32 off everywhere.

    A run or record from then keeps those numerics (a resume judges alike, a cached figure stays true),
    under the regime its dtype meant: float32 is `exact`, bfloat16 `bf16`, float16 `fp16`.
    """
    return MathMode(precision=_LEGACY_PRECISION[dtype], dtype=dtype, cudnn_tf32=False, matmul_precision="highest")


def flags_differ(mode: MathMode) -> str | None:
    """None when this process's PyTorch flags are `mode`'s; otherwise what differs, for a message."""
    import torch

    cudnn, matmul = bool(torch.backends.cudnn.allow_tf32), torch.get_float32_matmul_precision()
    differences = []
    if cudnn != mode.cudnn_tf32:
        differences.append(f"cuDNN TF32 {_on_off(cudnn)} (the regime has it {_on_off(mode.cudnn_tf32)})")
    if matmul != mode.matmul_precision:
        differences.append(f"float32 matmul precision {matmul!r} (the regime has {mode.matmul_precision!r})")
    return "; ".join(differences) or None


def apply(mode: MathMode) -> None:
    """Sets the process's PyTorch flags to `mode` (the worker does this before running anything)."""
    import torch

    torch.backends.cudnn.allow_tf32 = mode.cudnn_tf32
    torch.set_float32_matmul_precision(mode.matmul_precision)
