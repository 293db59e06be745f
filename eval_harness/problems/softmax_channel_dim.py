import torch
import torch.nn as nn


class Model(nn.Module):
    """Softmax across the channel axis of an NCHW tensor, independently at every (n, h, w) position."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=1)


batch = 64
channels = 128
height = 256
width = 256


def get_inputs():
    return [torch.randn(batch, channels, height, width) * 2.0]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "softmax"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 16, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "channels": 19, "height": 9, "width": 13},
    "odd": {"batch": 61, "channels": 133, "height": 251, "width": 247},
}
