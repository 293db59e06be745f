import torch
import torch.nn as nn


class Model(nn.Module):
    """A per-token score head: a linear projection of each token's features, scaled, averaged over the projected
    features, plus a learned offset: (batch, tokens, 1)."""

    def __init__(self, features: int, hidden: int):
        super().__init__()
        self.proj = nn.Linear(features, hidden)
        self.scale = nn.Parameter(torch.tensor(0.5))
        self.offset = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.proj(x) * 0.25).mean(dim=-1, keepdim=True) * self.scale + self.offset


batch = 32
tokens = 512
features = 1024
hidden = 4096


def get_inputs():
    return [torch.randn(batch, tokens, features)]


def get_init_inputs():
    return [features, hidden]


KEVOLVE_CATEGORY = "fusion"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "tokens": 8, "features": 16, "hidden": 32},
    "small_odd": {"batch": 3, "tokens": 5, "features": 17, "hidden": 33},
    "odd": {"batch": 7, "tokens": 509, "features": 1021, "hidden": 4093},
}
