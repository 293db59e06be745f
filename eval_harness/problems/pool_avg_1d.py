import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """1-D average pooling over (batch, channels, length) signals: windows of 8, stride 4, padding 2, where padded
    positions count as zeros in the average."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool1d(x, kernel_size=8, stride=4, padding=2, count_include_pad=True)


batch = 64
channels = 256
length = 32768


def get_inputs():
    return [torch.randn(batch, channels, length)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "pool"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 8, "length": 512},
    "small_odd": {"batch": 3, "channels": 7, "length": 301},
    "odd": {"batch": 61, "channels": 257, "length": 33331},
}
