import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """3-D average pooling of (N, C, D, H, W) volumes: 3x3x3 windows, stride 2, padding 1, averaging only the
    positions that fall inside the volume."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool3d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)


batch = 8
channels = 64
depth = 64
height = 128
width = 128


def get_inputs():
    return [torch.randn(batch, channels, depth, height, width)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "pool"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 4, "depth": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 1, "channels": 3, "depth": 7, "height": 9, "width": 11},
    "odd": {"batch": 7, "channels": 67, "depth": 63, "height": 127, "width": 129},
}
