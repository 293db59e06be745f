import torch
import torch.nn as nn


class Model(nn.Module):
    """3-D convolution (3x3x3, stride 1, size-preserving padding) with bias over (N, C, D, H, W) volumes."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


batch = 4
in_channels = 32
out_channels = 64
depth = 32
height = 96
width = 96
kernel_size = 3


def get_inputs():
    return [torch.randn(batch, in_channels, depth, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]


KEVOLVE_CATEGORY = "conv"
KEVOLVE_CONFIGS = {
    "small": {"batch": 1, "in_channels": 4, "out_channels": 8, "depth": 8, "height": 8, "width": 8},
    "small_odd": {"batch": 2, "in_channels": 3, "out_channels": 5, "depth": 5, "height": 7, "width": 9},
    "odd": {"batch": 3, "in_channels": 29, "out_channels": 61, "depth": 33, "height": 97, "width": 101},
}
