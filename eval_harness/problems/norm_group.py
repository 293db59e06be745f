import torch
import torch.nn as nn


class Model(nn.Module):
    """Group normalisation of an NCHW tensor (statistics per sample and channel group) with a learned per-channel affine."""

    def __init__(self, groups: int, channels: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-5, affine=True)
        with torch.no_grad():
            self.norm.weight.copy_(1.0 + 0.5 * torch.randn(channels))
            self.norm.bias.copy_(0.5 * torch.randn(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


batch = 64
channels = 256
groups = 32
height = 128
width = 128


def get_inputs():
    # Per-sample offsets and scales, so normalisation changes the data substantially.
    shift = torch.randn(batch, channels, 1, 1)
    scale = 0.5 + torch.rand(batch, channels, 1, 1) * 2.0
    return [torch.randn(batch, channels, height, width) * scale + shift]


def get_init_inputs():
    return [groups, channels]


KEVOLVE_CATEGORY = "norm"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 16, "groups": 4, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "channels": 15, "groups": 5, "height": 11, "width": 13},
    "odd": {"batch": 59, "channels": 258, "groups": 43, "height": 127, "width": 131},
}
