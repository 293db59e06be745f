"""PyTorch's type promotion for lowered steps, and the Triton type each value has inside a kernel.

Kernels hold every floating value in fp32 (loads convert, stores round to the value's dtype), and every integer
or boolean value in its own dtype: an int64 hash must wrap at 64 bits as PyTorch's does, which fp32 cannot even
represent. A step computes in one type (`computation_type`); operands of another type are converted first, so
Triton's own promotion (C's, with unsigned literals) never decides a result.
"""

from __future__ import annotations

import ast

import torch

from .program import Scalar

# Steps whose result keeps an integer or boolean operand's dtype (PyTorch's promotion); every other
# elementwise function of integers gives float32, PyTorch's default dtype (`torch.exp(int_tensor)`).
KEEPS_INTEGERS = {"add", "sub", "rsub", "mul", "neg", "abs", "square", "maximum", "minimum", "where", "identity",
                  "clamp", "clamp_min", "clamp_max", "relu", "remainder", "fmod", "floor_divide", "trunc_divide",
                  "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "left_shift", "right_shift", "cat"}
BOOLEAN_RESULTS = {"gt", "lt", "ge", "le", "eq", "ne", "logical_and", "logical_or", "logical_xor", "logical_not",
                   "isnan", "isinf", "isfinite"}
INDEX_RESULTS = {"index", "bucketize", "segment_start", "triangle"}
# Comparisons compute in their operands' promoted type; logical functions test each operand against zero.
COMPARISONS = {"gt", "lt", "ge", "le", "eq", "ne", "isnan", "isinf", "isfinite"}
_SELF_CONVERTING = {"float", "window_valid", "window_pad", "index", "bucketize", "segment_start", "triangle",
                    "logical_and", "logical_or", "logical_xor", "logical_not"}

_TRITON = {"torch.bool": "tl.int1", "torch.uint8": "tl.uint8", "torch.int8": "tl.int8", "torch.int16": "tl.int16",
           "torch.int32": "tl.int32", "torch.int64": "tl.int64"}
FP32 = "tl.float32"


def kernel_type(dtype: str) -> str:
    """The Triton type a value of `dtype` has inside a kernel: floating values are held in fp32."""
    return _TRITON.get(dtype, FP32)


def is_integral(dtype: str) -> bool:
    return dtype in _TRITON


def scalar_kind(scalar: Scalar) -> type | None:
    """bool, int or float for a literal; None for a value computed at run time (it does not promote, as a
    tensor's dtype decides PyTorch's result against a scalar of the same kind)."""
    if not scalar.literal:
        return None
    if scalar.expr.startswith("float("):
        return float
    try:
        value = ast.literal_eval(scalar.expr)
    except (ValueError, SyntaxError):
        return None
    return type(value) if isinstance(value, bool | int | float) else None


def promoted(tensor_dtypes: list[str], scalars: list[Scalar]) -> str:
    """PyTorch's result type of tensors and Python scalars: a scalar promotes only to a higher kind."""
    result = torch.bool if not tensor_dtypes else getattr(torch, tensor_dtypes[0].removeprefix("torch."))
    for dtype in tensor_dtypes[1:]:
        result = torch.promote_types(result, getattr(torch, dtype.removeprefix("torch.")))
    kinds = {scalar_kind(s) for s in scalars} - {None}
    if float in kinds and not result.is_floating_point:
        result = torch.float32
    elif int in kinds and result == torch.bool:
        result = torch.int64
    elif not tensor_dtypes and not kinds:
        result = torch.float32
    return str(result)


def result_dtype(fn: str, tensor_dtypes: list[str], scalars: list[Scalar]) -> str:
    """The dtype PyTorch gives an elementwise step's value (the where's condition is not among the operands)."""
    if fn in INDEX_RESULTS:
        return "torch.int64"
    if fn in BOOLEAN_RESULTS:
        return "torch.bool"
    if fn == "float":
        return "torch.float32"
    dtype = promoted(tensor_dtypes, scalars)
    return dtype if fn in KEEPS_INTEGERS or not is_integral(dtype) else "torch.float32"


def computation_type(fn: str, result: str, tensor_dtypes: list[str], scalars: list[Scalar]) -> str | None:
    """The Triton type a step computes in, or None for one that converts its operands itself."""
    if fn in _SELF_CONVERTING:
        return None
    if fn in COMPARISONS:
        return kernel_type(promoted(tensor_dtypes, scalars))
    return kernel_type(result)


_SIGNED_BITS = {"tl.int8": 8, "tl.int16": 16, "tl.int32": 32, "tl.int64": 64}


def literal(scalar: Scalar, computation: str | None) -> str:
    """An integer literal of a signed integer step, wrapped into its width as PyTorch converts a Python scalar
    (`int32_tensor * 2654435761` multiplies by -1640531535); Triton refuses one out of range."""
    bits = _SIGNED_BITS.get(computation or "")
    if bits is None or scalar_kind(scalar) is not int:
        return scalar.expr
    value = ast.literal_eval(scalar.expr) % (1 << bits)
    return str(value - (1 << bits) if value >= 1 << (bits - 1) else value)


def converted(operand: str, operand_dtype: str | None, computation: str | None) -> str:
    """`operand` as the step's computation type: integers become fp32 for a floating step, and every operand of
    an integer step (a scalar argument too: Triton would type a large one unsigned) takes the step's width.
    `operand_dtype` is None for a scalar argument; literals are left to Triton, which wraps them as PyTorch does."""
    if computation is None:
        return operand
    if operand_dtype is None:
        # tl.cast, not .to: Triton passes an integer argument equal to 1 as a constexpr, which has no .to.
        return f"tl.cast({operand}, {computation})" if computation != FP32 else operand
    if kernel_type(operand_dtype) == computation:
        return operand
    if computation == "tl.int1":
        return f"({operand} != 0)"  # PyTorch's conversion to bool; Triton's would truncate an integer's bits
    return f"{operand}.to({computation})"
