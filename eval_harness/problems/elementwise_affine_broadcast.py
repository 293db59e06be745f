import torch
import torch.nn as nn


class Model(nn.Module):
    """Per-channel affine transform of an NCHW tensor: x * scale[c] + shift[c], broadcast over N, H and W."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)


batch = 64
channels = 256
height = 128
width = 128


def get_inputs():
    return [
        torch.randn(batch, channels, height, width),
        torch.randn(channels),
        torch.randn(channels),
    ]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "elementwise"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "channels": 7, "height": 13, "width": 11},
    "odd": {"batch": 61, "channels": 243, "height": 131, "width": 137},
}
