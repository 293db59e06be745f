import torch
import torch.nn as nn


class Model(nn.Module):
    """1-D convolution with bias over (batch, channels, length) signals, 'same' padding, stride 1."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


batch = 32
in_channels = 128
out_channels = 256
length = 8192
kernel_size = 5


def get_inputs():
    return [torch.randn(batch, in_channels, length)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]


KEVOLVE_CATEGORY = "conv"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "in_channels": 8, "out_channels": 16, "length": 256},
    "small_odd": {"batch": 3, "in_channels": 7, "out_channels": 13, "length": 299, "kernel_size": 3},
    "odd": {"batch": 31, "in_channels": 125, "out_channels": 251, "length": 8001, "kernel_size": 7},
}
