import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Per-sample mean squared error: for each row, the mean over features of (prediction - target)^2."""

    def __init__(self):
        super().__init__()

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(prediction, target, reduction="none").mean(dim=1)


rows = 16384
cols = 16384


def get_inputs():
    # Each row gets its own error scale, so the per-row losses differ widely.
    target = torch.randn(rows, cols)
    noise_scale = torch.rand(rows, 1) * 3.0
    prediction = target + noise_scale * torch.randn(rows, cols)
    return [prediction, target]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "loss"
KEVOLVE_CONFIGS = {
    "small": {"rows": 64, "cols": 256},
    "small_odd": {"rows": 37, "cols": 311},
    "odd": {"rows": 16001, "cols": 16411},
}
