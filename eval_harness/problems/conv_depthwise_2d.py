import torch
import torch.nn as nn


class Model(nn.Module):
    """Depthwise 2-D convolution: each channel of an NCHW tensor is filtered by its own k x k kernel (groups = channels),
    with bias, stride 1 and size-preserving padding."""

    def __init__(self, channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


batch = 32
channels = 256
height = 128
width = 128
kernel_size = 5


def get_inputs():
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [channels, kernel_size]


KEVOLVE_CATEGORY = "conv"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "channels": 5, "height": 11, "width": 17, "kernel_size": 3},
    "odd": {"batch": 31, "channels": 253, "height": 127, "width": 133, "kernel_size": 7},
}
