import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Convolution with bias, exact (erf) GELU, non-overlapping pool x pool average pooling, then a learned
    per-channel scale."""

    def __init__(self, in_channels: int, out_channels: int, pool: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=True)
        self.scale = nn.Parameter(torch.randn(out_channels, 1, 1))
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.gelu(self.conv(x))
        y = F.avg_pool2d(y, self.pool)
        return y * self.scale


batch = 32
in_channels = 32
out_channels = 128
height = 128
width = 128
pool = 4


def get_inputs():
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, pool]


KEVOLVE_CATEGORY = "fusion"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "in_channels": 4, "out_channels": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "in_channels": 3, "out_channels": 7, "height": 15, "width": 21, "pool": 3},
    "odd": {"batch": 29, "in_channels": 31, "out_channels": 131, "height": 126, "width": 135, "pool": 3},
}
