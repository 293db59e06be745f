import math

import torch
import torch.nn as nn


class Model(nn.Module):
    """Causal self-attention written out step by step: scores = q k^T / sqrt(d), positions after the query masked
    to -inf, softmax over keys, then the weighted sum of v. Shapes are (batch, heads, seq, head_dim)."""

    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        seq_len = q.shape[-2]
        scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
        future = torch.ones(seq_len, seq_len, dtype=torch.bool, device=q.device).triu(diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.matmul(weights, v)


batch = 4
heads = 16
seq = 2048
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
    "small": {"batch": 1, "heads": 2, "seq": 64, "head_dim": 32},
    "small_odd": {"batch": 2, "heads": 3, "seq": 53, "head_dim": 24},
    "odd": {"batch": 3, "heads": 12, "seq": 2111, "head_dim": 80},
}
