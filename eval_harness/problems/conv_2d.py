import torch
import torch.nn as nn


class Model(nn.Module):
    """2-D convolution (3x3 by default, stride 1, zero padding that keeps H and W) with bias over NCHW images."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


batch = 16
in_channels = 96
out_channels = 192
height = 160
width = 192
kernel_size = 3


def get_inputs():
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]


KEVOLVE_CATEGORY = "conv"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "in_channels": 4, "out_channels": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 1, "in_channels": 3, "out_channels": 7, "height": 13, "width": 19, "kernel_size": 5},
    "odd": {"batch": 15, "in_channels": 99, "out_channels": 189, "height": 157, "width": 199},
}
