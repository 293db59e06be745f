"""Adaptive pooling's windows (lowering_pool.py): output j of a spatial dim with n inputs and o outputs reads inputs
floor(j * n / o) up to ceil((j + 1) * n / o), PyTorch's bounds, so where o does not divide n neighbouring windows
overlap and differ in size. The kernel walks the largest window's taps and masks those past each window's end."""

from __future__ import annotations

ADAPTIVE_WINDOWS = ("window_adaptive_max", "window_adaptive_sum")

ADAPTIVE_WINDOW_SOURCE = '''def _adaptive_window_shape(shape, *outputs):
    """(N, C, outputs..., taps...) for adaptive pooling: a dim's taps are its largest window's."""
    taps = [max(-(-(j + 1) * n // o) - j * n // o for j in range(o)) for n, o in zip(shape[2:], outputs)]
    return torch.Size([shape[0], shape[1], *outputs, *taps])
'''


def largest_windows(sizes: list[int], outputs: list[int]) -> list[int]:
    """The traced taps of each spatial dim, as `_adaptive_window_shape` computes them at run time."""
    return [max(-(-(j + 1) * n // o) - j * n // o for j in range(o)) for n, o in zip(sizes, outputs, strict=True)]


def adaptive_tap(position: str, output: str, tap: str, size: str, outputs: str) -> tuple[str, str]:
    """The statement placing tap `tap` of output `output` (a kept-row and a reduced-column index vector) at
    `position`, and the condition that it lies inside that output's window."""
    start = f"({output} * {size}) // {outputs}"
    end = f"(({output} + 1) * {size} + {outputs} - 1) // {outputs}"
    return f"{position} = ({start})[:, None] + {tap}[None, :]", f"({position} < ({end})[:, None])"
