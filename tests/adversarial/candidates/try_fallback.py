"""A broken kernel inside try/except that quietly falls back to PyTorch."""
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def _gelu(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + o, tl.load(x_ptr + o, mask=o < n) * undefined_scale, mask=o < n)  # noqa: F821


class ModelNew(nn.Module):
    def forward(self, x):
        try:
            y = torch.empty_like(x)
            _gelu[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
            return y
        except Exception:
            return torch.nn.functional.gelu(x, approximate="tanh")
