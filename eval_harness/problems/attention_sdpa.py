import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Non-causal multi-head scaled dot-product attention: softmax(q k^T / sqrt(d)) v for each batch and head,
    with q, k, v shaped (batch, heads, seq, head_dim)."""

    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)


batch = 16
heads = 16
seq = 1024
head_dim = 64


def get_inputs():
    return [
        torch.randn(batch, heads, seq, head_dim),
        torch.randn(batch, heads, seq, head_dim),
        torch.randn(batch, heads, seq, head_dim),
    ]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "attention"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "heads": 2, "seq": 64, "head_dim": 32},
    "small_odd": {"batch": 1, "heads": 3, "seq": 77, "head_dim": 40},
    "odd": {"batch": 15, "heads": 12, "seq": 1337, "head_dim": 64},
}
