import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Pre-norm decoder layer: x + causal multi-head self-attention(LayerNorm(x)), then
    x + MLP(LayerNorm(x)) with a GELU (tanh) MLP of width 4 * d_model. Input and output are (batch, seq, d_model)."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm_attn = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm_mlp = nn.LayerNorm(d_model)
        self.fc_in = nn.Linear(d_model, 4 * d_model)
        self.fc_out = nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        h = self.norm_attn(x)
        q, k, v = self.qkv(h).view(b, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(attn.transpose(1, 2).reshape(b, s, d))
        h = self.norm_mlp(x)
        return x + self.fc_out(F.gelu(self.fc_in(h), approximate="tanh"))


batch = 8
seq = 1024
d_model = 768
heads = 12


def get_inputs():
    return [torch.randn(batch, seq, d_model)]


def get_init_inputs():
    return [d_model, heads]


KEVOLVE_CATEGORY = "block"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "seq": 32, "d_model": 64, "heads": 4},
    "small_odd": {"batch": 3, "seq": 29, "d_model": 60, "heads": 5},
    "odd": {"batch": 7, "seq": 1111, "d_model": 720, "heads": 9},
}
