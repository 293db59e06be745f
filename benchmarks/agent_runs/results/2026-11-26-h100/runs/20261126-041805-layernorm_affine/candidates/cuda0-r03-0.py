"""Hand-written Triton candidate for layernorm_affine: LayerNorm(hidden) with weight and bias.

One program per row. A row of up to MAX_FUSED_COLS columns is loaded once into registers: mean,
then the variance of the centred values (exact two-pass statistics, no E[x^2] - E[x]^2 cancellation),
then the affine output; one read and one write of x. A wider row takes two reads and one write: the
first loop accumulates per-lane sums of (x - k) and (x - k)^2 shifted by the row's first element k,
which keeps the one-pass variance accurate when the mean is far from zero.
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl

# Widest row kept entirely in registers (16384 fp32 = 32 per thread at 16 warps).
MAX_FUSED_COLS = 16384
# Column block of the looped path for wider rows: small blocks at 8 warps keep many rows in flight,
# and a row's second read then mostly hits L2 (on an H200, 32769 columns: 1.72 ms with 2048 at 8
# warps, 2.09 ms with 4096 at 8 warps).
LOOP_BLOCK = 2048


@triton.jit
def _layernorm_fused_kernel(
    x_ptr,
    w_ptr,
    b_ptr,
    out_ptr,
    n_cols,
    stride_xr,
    stride_xc,
    stride_w,
    stride_b,
    stride_or,
    stride_oc,
    eps,
    # constexpr: tl.arange needs a compile-time extent; BLOCK is the row's width rounded up to 2^k.
    BLOCK: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK).to(tl.int64)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride_xr + cols * stride_xc, mask=mask, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=0) / n_cols
    d = tl.where(mask, x - mean, 0.0)
    var = tl.sum(d * d, axis=0) / n_cols
    rstd = 1.0 / tl.sqrt(var + eps)
    # Loaded after the statistics: loading them first held ~2x the registers through the reductions
    # and cost occupancy (measured slower on an H100).
    w = tl.load(w_ptr + cols * stride_w, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + cols * stride_b, mask=mask, other=0.0).to(tl.float32)
    y = d * rstd * w + b
    tl.store(out_ptr + row * stride_or + cols * stride_oc, y.to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _layernorm_looped_kernel(
    x_ptr,
    w_ptr,
    b_ptr,
    out_ptr,
    n_cols,
    stride_xr,
    stride_xc,
    stride_w,
    stride_b,
    stride_or,
    stride_oc,
    eps,
    # constexpr: tl.arange needs a compile-time extent; BLOCK is the column block per iteration.
    BLOCK: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * stride_xr
    out_row = out_ptr + row * stride_or
    offs = tl.arange(0, BLOCK)

    # Pass 1: shifted sums, per lane (no cross-thread reduction inside the loop).
    k = tl.load(x_row).to(tl.float32)
    acc1 = tl.zeros([BLOCK], tl.float32)
    acc2 = tl.zeros([BLOCK], tl.float32)
    for start in range(0, n_cols, BLOCK):
        cols = (start + offs).to(tl.int64)
        mask = cols < n_cols
        x = tl.load(x_row + cols * stride_xc, mask=mask, other=0.0).to(tl.float32)
        d = tl.where(mask, x - k, 0.0)
        acc1 += d
        acc2 += d * d
    s1 = tl.sum(acc1, axis=0) / n_cols
    s2 = tl.sum(acc2, axis=0) / n_cols
    mean = k + s1
    var = tl.maximum(s2 - s1 * s1, 0.0)
    rstd = 1.0 / tl.sqrt(var + eps)

    # Pass 2: normalise, apply the affine parameters, write.
    for start in range(0, n_cols, BLOCK):
        cols = (start + offs).to(tl.int64)
        mask = cols < n_cols
        x = tl.load(x_row + cols * stride_xc, mask=mask, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + cols * stride_w, mask=mask, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + cols * stride_b, mask=mask, other=0.0).to(tl.float32)
        y = (x - mean) * rstd * w + b
        tl.store(out_row + cols * stride_oc, y.to(out_ptr.dtype.element_ty), mask=mask)


def _num_warps(block: int) -> int:
    if block <= 1024:
        return 4
    if block <= 4096:
        return 8
    return 16


def layernorm_affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    assert x.dim() == 2 and weight.shape == (x.shape[1],) and bias.shape == (x.shape[1],)
    n_rows, n_cols = x.shape
    out = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
    if out.numel() == 0:
        return out
    grid = (n_rows,)
    args = (
        x,
        weight,
        bias,
        out,
        n_cols,
        x.stride(0),
        x.stride(1),
        weight.stride(0),
        bias.stride(0),
        out.stride(0),
        out.stride(1),
        float(eps),
    )
    block = triton.next_power_of_2(n_cols)
    if block <= MAX_FUSED_COLS:
        _layernorm_fused_kernel[grid](*args, BLOCK=block, num_warps=_num_warps(block))
    else:
        _layernorm_looped_kernel[grid](*args, BLOCK=LOOP_BLOCK, num_warps=_num_warps(LOOP_BLOCK))
    return out


class ModelNew(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        # Same module and the same random draws, in the same order, as the reference Model.
        self.norm = nn.LayerNorm(hidden, elementwise_affine=True)
        with torch.no_grad():
            self.norm.weight.copy_(1.0 + 0.1 * torch.randn(hidden))
            self.norm.bias.copy_(0.1 * torch.randn(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layernorm_affine(x, self.norm.weight, self.norm.bias, self.norm.eps)
