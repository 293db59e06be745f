"""The number formats kevolve names: the dtype a precision regime stores tensors in, and the formats a
datasheet lists peaks for. One enum, spelled as torch spells its dtypes (`getattr(torch, dtype.value)` for
the storage formats), so a regime, a result file and a roofline lookup all say `bfloat16` for the same thing.
"""

from __future__ import annotations

from enum import StrEnum


class DType(StrEnum):
    FLOAT64 = "float64"
    FLOAT32 = "float32"
    TF32 = "tf32"  # not a storage format: how tensor cores read float32 operands
    BFLOAT16 = "bfloat16"
    FLOAT16 = "float16"
    FLOAT8 = "float8"
    INT8 = "int8"

    @classmethod
    def _missing_(cls, value: object) -> DType | None:
        # Datasheets (and the spec YAML files) write the short names.
        return _DATASHEET_NAMES.get(value) if isinstance(value, str) else None


_DATASHEET_NAMES = {"fp64": DType.FLOAT64, "fp32": DType.FLOAT32, "bf16": DType.BFLOAT16, "fp16": DType.FLOAT16,
                    "fp8": DType.FLOAT8}

# The formats a precision regime may store inputs and parameters in.
STORAGE_DTYPES = frozenset({DType.FLOAT32, DType.BFLOAT16, DType.FLOAT16})
