import torch
import torch.nn as nn


class Model(nn.Module):
    """RMSNorm over the hidden dimension of [tokens, hidden], with a learnable weight [hidden].

    y = x * rsqrt(mean(x^2) + eps) * weight. The weight is drawn at random (not left at ones) so
    that a kernel which drops it does not match.
    """

    def __init__(self, hidden: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(hidden))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return x * inv_rms * self.weight


tokens = 65536
hidden = 4096
eps = 1e-6


def get_inputs():
    return [torch.randn(tokens, hidden)]


def get_init_inputs():
    return [hidden, eps]


KEVOLVE_CATEGORY = "norm"
KEVOLVE_CONFIGS = {
    "small": {"tokens": 64, "hidden": 256},
    "small_odd": {"tokens": 37, "hidden": 301},
    "odd": {"tokens": 30001, "hidden": 7168},
}
