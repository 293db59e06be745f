"""The run-time helpers of pooling windows (lowering_pool.py) that a generated module carries, and adaptive windows.

An adaptive pool's output j of a spatial dim with n inputs and o outputs reads inputs floor(j * n / o) up to
ceil((j + 1) * n / o), PyTorch's bounds, so where o does not divide n neighbouring windows overlap and differ in
size. The kernel walks the largest window's taps and masks those past each window's end."""

from __future__ import annotations

import inspect

import torch

ADAPTIVE_WINDOWS = ("window_adaptive_max", "window_adaptive_sum")

WINDOW_SOURCE = '''def _window(value, count):
    """A pooling setting as one int per spatial dim (modules keep an int or a tuple)."""
    return (value,) * count if isinstance(value, int) else tuple(value)


def _window_shape(shape, *settings):
    """(N, C, outputs..., taps...) for a pooled tensor: settings are kernel sizes, strides, paddings, dilations."""
    count = len(shape) - 2
    kernel, stride, padding, dilation = (settings[k * count:(k + 1) * count] for k in range(4))
    outputs = [(shape[2 + i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
               for i in range(count)]
    return torch.Size([shape[0], shape[1], *outputs, *kernel])
'''

def _adaptive_window_shape(shape, *outputs):
    """(N, C, outputs..., taps...) for adaptive pooling: a dim's taps are its largest window's."""
    taps = [max(-(-(j + 1) * n // o) - j * n // o for j in range(o))
            for n, o in zip(shape[2:], outputs, strict=True)]
    return torch.Size([shape[0], shape[1], *outputs, *taps])


# Written into a module that pools adaptively; the engine calls the same function for the traced shape.
ADAPTIVE_WINDOW_SOURCE = inspect.getsource(_adaptive_window_shape)


def largest_windows(sizes: list[int], outputs: list[int]) -> list[int]:
    """The traced taps of each spatial dim."""
    return list(_adaptive_window_shape([1, 1, *sizes], *outputs)[2 + len(outputs):])


def adaptive_tap(position: str, output: str, tap: str, size: str, outputs: str) -> tuple[str, str]:
    """The statement placing tap `tap` of output `output` (a kept-row and a reduced-column index vector) at
    `position`, and the condition that it lies inside that output's window."""
    start = f"({output} * {size}) // {outputs}"
    end = f"(({output} + 1) * {size} + {outputs} - 1) // {outputs}"
    return f"{position} = ({start})[:, None] + {tap}[None, :]", f"({position} < ({end})[:, None])"
