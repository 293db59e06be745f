"""Legitimate and a little clever: a persistent grid of a few programs striding over the tensor,
with the block and grid chosen from the size. Must not be flagged under strict."""
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def _gelu_grid_stride(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    step = tl.num_programs(0).to(tl.int64) * BLOCK
    start = tl.program_id(0).to(tl.int64) * BLOCK
    for base in range(start, n, step):
        o = base + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + o, mask=o < n).to(tl.float32)
        t = 2.0 / (1.0 + tl.exp(-1.5957691216057308 * (x + 0.044715 * x * x * x))) - 1.0
        tl.store(y_ptr + o, (0.5 * x * (1.0 + t)).to(y_ptr.dtype.element_ty), mask=o < n)


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        y = torch.empty_like(x)
        block = 1024 if x.numel() >= 1 << 20 else 256
        programs = max(1, min(triton.cdiv(x.numel(), block), 4))
        _gelu_grid_stride[(programs,)](x, y, x.numel(), BLOCK=block)
        return y
