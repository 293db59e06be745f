import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Residual branch with clipping: x + gamma * hardtanh(linear(x), lo, hi), where linear has a bias and gamma is a
    learned per-feature gain."""

    def __init__(self, features: int, lo: float, hi: float):
        super().__init__()
        self.linear = nn.Linear(features, features, bias=True)
        self.gamma = nn.Parameter(torch.randn(features))
        self.lo = lo
        self.hi = hi

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.hardtanh(self.linear(x), self.lo, self.hi)
        return x + self.gamma * y


batch = 4096
features = 4096
lo = -0.5
hi = 0.5


def get_inputs():
    return [torch.randn(batch, features)]


def get_init_inputs():
    return [features, lo, hi]


KEVOLVE_CATEGORY = "fusion"
KEVOLVE_CONFIGS = {
    "small": {"batch": 64, "features": 128},
    "small_odd": {"batch": 37, "features": 93},
    "odd": {"batch": 4001, "features": 4111, "lo": -0.25, "hi": 0.75},
}
