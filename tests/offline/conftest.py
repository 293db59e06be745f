"""Triton's interpreter multiplies bfloat16 blocks as their raw 16-bit patterns (numpy has no bfloat16, so it
keeps them as uint16) and returns nonsense; GPUs multiply them as numbers. The offline tests run the generated
GEMMs of the bf16 regime in the interpreter, so its dot is given bfloat16 operands as fp32 values first."""

from __future__ import annotations

import numpy as np
import pytest
import triton.language as tl
from triton.runtime import interpreter


def _as_float32(handle: interpreter.TensorHandle) -> interpreter.TensorHandle:
    if handle.dtype.scalar != tl.bfloat16:
        return handle
    # bfloat16 is the top half of a float32's bits.
    bits = handle.data.astype(np.uint32) << 16
    return interpreter.TensorHandle(bits.view(np.float32), tl.float32)


@pytest.fixture(autouse=True, scope="session")
def interpreter_multiplies_bfloat16_as_numbers():
    builder = interpreter.InterpreterBuilder
    original = builder.create_dot

    def create_dot(self, a, b, d, input_precision, max_num_imprecise_acc):
        return original(self, _as_float32(a), _as_float32(b), d, input_precision, max_num_imprecise_acc)

    builder.create_dot = create_dot
    yield
    builder.create_dot = original
