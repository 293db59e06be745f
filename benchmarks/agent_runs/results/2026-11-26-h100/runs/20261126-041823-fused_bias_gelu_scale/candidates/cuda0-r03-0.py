"""Hand-written Triton candidate for fused_bias_gelu_scale.

out = gelu_tanh(x + bias) * scale + residual in one kernel: each element of x and residual is read
once and out written once (eager PyTorch makes four passes with three intermediates). Programs own
a 2-D tile of BLOCK_R rows by BLOCK_C columns so narrow rows still fill a whole tile.
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl

# Widest column tile; module-level so a test can shrink it to force several column tiles per row.
MAX_BLOCK_C = 1024
# Elements per program (BLOCK_R * BLOCK_C): 16 fp32 per thread at 8 warps, four 128-bit accesses.
TILE = 8192

# 2 * sqrt(2 / pi), the tanh-GELU constant doubled for the sigmoid form below. A jit kernel may read
# a global only when it is a tl.constexpr (the GPU compiler rejects others; the interpreter does not).
_TWO_SQRT_2_OVER_PI = tl.constexpr(1.5957691216057308)


@triton.jit
def _bias_gelu_scale_residual_kernel(
    x_ptr,
    bias_ptr,
    res_ptr,
    out_ptr,
    n_rows,
    n_cols,
    n_col_tiles,
    stride_xr,
    stride_xc,
    stride_b,
    stride_rr,
    stride_rc,
    stride_or,
    stride_oc,
    scale,
    # Tile sizes are constexpr: tl.arange needs compile-time extents, and they fix the register tile.
    BLOCK_R: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    # A 1-D grid (row tiles x column tiles, flattened) avoids the 65535 limit of grid axes 1 and 2.
    pid = tl.program_id(0).to(tl.int64)
    pid_r = pid // n_col_tiles
    pid_c = pid % n_col_tiles
    rows = pid_r * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = pid_c * BLOCK_C + tl.arange(0, BLOCK_C)
    row_mask = rows < n_rows
    col_mask = cols < n_cols
    mask = row_mask[:, None] & col_mask[None, :]

    x = tl.load(x_ptr + rows[:, None] * stride_xr + cols[None, :] * stride_xc, mask=mask, other=0.0)
    b = tl.load(bias_ptr + cols * stride_b, mask=col_mask, other=0.0)
    r = tl.load(res_ptr + rows[:, None] * stride_rr + cols[None, :] * stride_rc, mask=mask, other=0.0)

    h = x.to(tl.float32) + b.to(tl.float32)[None, :]
    # 0.5 * h * (1 + tanh(u)) == h * sigmoid(2u): one exp, and it saturates cleanly at both ends
    # (exp overflow to inf gives h / inf = -0 for very negative h, exp underflow gives h).
    two_u = _TWO_SQRT_2_OVER_PI * (h + 0.044715 * h * h * h)
    g = h / (1.0 + tl.exp(-two_u))
    out = g * scale + r.to(tl.float32)
    tl.store(
        out_ptr + rows[:, None] * stride_or + cols[None, :] * stride_oc,
        out.to(out_ptr.dtype.element_ty),
        mask=mask,
    )


def bias_gelu_scale_residual(x: torch.Tensor, bias: torch.Tensor, residual: torch.Tensor, scale: float) -> torch.Tensor:
    assert x.dim() == 2 and residual.shape == x.shape and bias.shape == (x.shape[1],)
    n_rows, n_cols = x.shape
    out = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
    if out.numel() == 0:
        return out
    block_c = min(triton.next_power_of_2(n_cols), MAX_BLOCK_C)
    block_r = max(1, TILE // block_c)
    n_col_tiles = triton.cdiv(n_cols, block_c)
    grid = (triton.cdiv(n_rows, block_r) * n_col_tiles,)
    _bias_gelu_scale_residual_kernel[grid](
        x,
        bias,
        residual,
        out,
        n_rows,
        n_cols,
        n_col_tiles,
        x.stride(0),
        x.stride(1),
        bias.stride(0),
        residual.stride(0),
        residual.stride(1),
        out.stride(0),
        out.stride(1),
        float(scale),
        BLOCK_R=block_r,
        BLOCK_C=block_c,
        num_warps=8,
    )
    return out


class ModelNew(nn.Module):
    def __init__(self, cols: int, scale: float):
        super().__init__()
        # Same parameter, drawn the same way, as the reference Model.
        self.bias = nn.Parameter(torch.randn(cols))
        self.scale = scale

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return bias_gelu_scale_residual(x, self.bias, residual, self.scale)
