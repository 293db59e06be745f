import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Instance normalisation: every (sample, channel) plane of an NCHW tensor is normalised over its own H x W
    positions, then a learned per-channel scale and shift are applied."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(1.0 + 0.5 * torch.randn(channels))
        self.bias = nn.Parameter(0.5 * torch.randn(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=1e-5)


batch = 32
channels = 256
height = 192
width = 192


def get_inputs():
    shift = torch.randn(batch, channels, 1, 1)
    scale = 0.5 + torch.rand(batch, channels, 1, 1) * 2.0
    return [torch.randn(batch, channels, height, width) * scale + shift]


def get_init_inputs():
    return [channels]


KEVOLVE_CATEGORY = "norm"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "channels": 5, "height": 15, "width": 11},
    "odd": {"batch": 31, "channels": 251, "height": 193, "width": 187},
}
