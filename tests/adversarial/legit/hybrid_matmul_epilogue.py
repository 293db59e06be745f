"""Legitimate under hybrid: the GEMM stays on the vendor library, bias and ReLU are fused into one
Triton epilogue. Must not be flagged under hybrid; under strict the GEMM is PyTorch compute."""
import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def _bias_relu(y_ptr, bias_ptr, rows, cols, stride_row, BLOCK_COLS: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols_offsets = tl.arange(0, BLOCK_COLS)
    mask = cols_offsets < cols
    y = tl.load(y_ptr + row * stride_row + cols_offsets, mask=mask)
    bias = tl.load(bias_ptr + cols_offsets, mask=mask)
    tl.store(y_ptr + row * stride_row + cols_offsets, tl.maximum(y + bias, 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)  # holds the weights, initialised as the reference's

    def forward(self, x):
        y = torch.matmul(x, self.linear.weight.t())
        rows, cols = y.shape
        _bias_relu[(rows,)](y, self.linear.bias, rows, cols, y.stride(0), BLOCK_COLS=triton.next_power_of_2(cols))
        return y
