"""Legitimate under hybrid: attention stays PyTorch's fused kernel, the residual is a Triton kernel. Must not be
flagged under hybrid; under strict the attention is PyTorch compute."""
import torch.nn.functional as F
import triton
import triton.language as tl
from torch import nn


@triton.jit
def _add(y_ptr, x_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    total = tl.load(y_ptr + offsets, mask=mask) + tl.load(x_ptr + offsets, mask=mask)
    tl.store(y_ptr + offsets, total, mask=mask)


class ModelNew(nn.Module):
    def forward(self, q, k, v):
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).contiguous()
        n = y.numel()
        _add[(triton.cdiv(n, 256),)](y, q.contiguous(), n, BLOCK=256)
        return y
