import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Causal attention with a residual: the attention may stay PyTorch's fused kernel under hybrid."""

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True) + q


batch = 2
heads = 3
seq = 16
head_dim = 8


def get_inputs():
    return [torch.randn(batch, heads, seq, head_dim) for _ in range(3)]


def get_init_inputs():
    return []


KEVOLVE_CONFIGS = {"small": {"batch": 2}, "small_odd": {"batch": 1, "heads": 5, "seq": 7, "head_dim": 4}}
