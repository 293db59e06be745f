"""What a correctness trial ran on, described exactly enough to route later calls by it.

The kernel library routes a call to a kernel only when the call's signature equals one the
kernel was verified on; these descriptions are that signature's recorded half.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .results import ArgumentSpec, InputSignature


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def describe_argument(value: Any) -> ArgumentSpec:
    """A tensor by shape and dtype; a plain value as it is; anything else by its repr (never routed)."""
    if isinstance(value, torch.Tensor):
        return ArgumentSpec(shape=list(value.shape), dtype=dtype_name(value.dtype))
    if value is None or isinstance(value, bool | int | float | str):
        return ArgumentSpec(value=value)
    if isinstance(value, list | tuple) and all(isinstance(v, bool | int | float | str) for v in value):
        return ArgumentSpec(value=list(value))
    return ArgumentSpec(value=f"<unroutable {type(value).__name__}: {value!r:.80}>")


def describe_arguments(values: Sequence[Any]) -> list[ArgumentSpec]:
    return [describe_argument(v) for v in values]


def input_signature(init: Sequence[Any], inputs: Sequence[Any], reference: nn.Module, output: Any) -> InputSignature:
    state = [*reference.parameters(), *reference.buffers()]
    return InputSignature(
        init=describe_arguments(init),
        inputs=describe_arguments(inputs),
        state=describe_arguments(state),
        returns_tensor=isinstance(output, torch.Tensor),
    )
