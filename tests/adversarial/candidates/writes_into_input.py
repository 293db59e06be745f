"""Saves an allocation by writing the result over its input."""
import triton
import triton.language as tl
from torch import nn


@triton.jit
def _gelu_inplace(x_ptr, n, BLOCK: tl.constexpr):
    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + o, mask=o < n)
    t = 2.0 / (1.0 + tl.exp(-1.5957691216057308 * (x + 0.044715 * x * x * x))) - 1.0
    tl.store(x_ptr + o, 0.5 * x * (1.0 + t), mask=o < n)


class ModelNew(nn.Module):
    def forward(self, x):
        _gelu_inplace[(triton.cdiv(x.numel(), 1024),)](x, x.numel(), BLOCK=1024)
        return x
