import torch
import torch.nn as nn


class Model(nn.Module):
    """Compounded growth: running product of per-step factors along the time axis of a (batch, steps, features) tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, factors: torch.Tensor) -> torch.Tensor:
        return torch.cumprod(factors, dim=1)


batch = 128
steps = 1024
features = 4096


def get_inputs():
    # Factors in [0.9, 1.1], so products over many steps stay in a comfortable fp32 range.
    return [0.9 + 0.2 * torch.rand(batch, steps, features)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "scan"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "steps": 64, "features": 64},
    "small_odd": {"batch": 3, "steps": 71, "features": 45},
    "odd": {"batch": 125, "steps": 1001, "features": 4321},
}
