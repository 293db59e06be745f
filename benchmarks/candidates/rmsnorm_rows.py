"""Hand-written Triton candidate for rmsnorm_rows: x * rsqrt(mean(x^2) + eps) * weight.

One program per row. A row of up to MAX_FUSED_COLS columns is loaded once into registers: one read
and one write of x (eager PyTorch makes about four passes). A wider row takes two reads and one
write: a loop of per-lane sums of squares, then a loop that scales and writes.
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl

# Widest row kept entirely in registers (16384 fp32 = 32 per thread at 16 warps).
MAX_FUSED_COLS = 16384
# Column block of the looped path for wider rows.
LOOP_BLOCK = 4096


@triton.jit
def _rmsnorm_fused_kernel(
    x_ptr,
    w_ptr,
    out_ptr,
    n_cols,
    stride_xr,
    stride_xc,
    stride_w,
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
    mean_sq = tl.sum(x * x, axis=0) / n_cols
    inv_rms = 1.0 / tl.sqrt(mean_sq + eps)
    w = tl.load(w_ptr + cols * stride_w, mask=mask, other=0.0).to(tl.float32)
    y = x * inv_rms * w
    tl.store(out_ptr + row * stride_or + cols * stride_oc, y.to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _rmsnorm_looped_kernel(
    x_ptr,
    w_ptr,
    out_ptr,
    n_cols,
    stride_xr,
    stride_xc,
    stride_w,
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

    # Pass 1: per-lane sums of squares (no cross-thread reduction inside the loop).
    acc = tl.zeros([BLOCK], tl.float32)
    for start in range(0, n_cols, BLOCK):
        cols = (start + offs).to(tl.int64)
        mask = cols < n_cols
        x = tl.load(x_row + cols * stride_xc, mask=mask, other=0.0).to(tl.float32)
        acc += x * x
    inv_rms = 1.0 / tl.sqrt(tl.sum(acc, axis=0) / n_cols + eps)

    # Pass 2: scale by inv_rms and the weight, write.
    for start in range(0, n_cols, BLOCK):
        cols = (start + offs).to(tl.int64)
        mask = cols < n_cols
        x = tl.load(x_row + cols * stride_xc, mask=mask, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + cols * stride_w, mask=mask, other=0.0).to(tl.float32)
        y = x * inv_rms * w
        tl.store(out_row + cols * stride_oc, y.to(out_ptr.dtype.element_ty), mask=mask)


def _num_warps(block: int) -> int:
    if block <= 1024:
        return 4
    if block <= 4096:
        return 8
    return 16


def rmsnorm_rows(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    assert x.dim() == 2 and weight.shape == (x.shape[1],)
    n_rows, n_cols = x.shape
    out = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
    if out.numel() == 0:
        return out
    grid = (n_rows,)
    args = (
        x,
        weight,
        out,
        n_cols,
        x.stride(0),
        x.stride(1),
        weight.stride(0),
        out.stride(0),
        out.stride(1),
        float(eps),
    )
    block = triton.next_power_of_2(n_cols)
    if block <= MAX_FUSED_COLS:
        _rmsnorm_fused_kernel[grid](*args, BLOCK=block, num_warps=_num_warps(block))
    else:
        _rmsnorm_looped_kernel[grid](*args, BLOCK=LOOP_BLOCK, num_warps=_num_warps(LOOP_BLOCK))
    return out


class ModelNew(nn.Module):
    def __init__(self, hidden: int, eps: float):
        super().__init__()
        # Same parameter, drawn the same way, as the reference Model.
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(hidden))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rmsnorm_rows(x, self.weight, self.eps)
