import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Overlapping 2-D max pooling of NCHW maps: 3x3 windows, stride 2, padding 1 (halves H and W)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, kernel_size=3, stride=2, padding=1)


batch = 64
channels = 128
height = 256
width = 256


def get_inputs():
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "pool"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 8, "height": 32, "width": 32},
    "small_odd": {"batch": 3, "channels": 5, "height": 17, "width": 23},
    "odd": {"batch": 63, "channels": 129, "height": 255, "width": 251},
}
