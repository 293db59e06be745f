import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Adaptive 2-D average pooling of NCHW maps to a fixed out_h x out_w grid; when H or W is not a multiple of
    the output size, neighbouring windows overlap and have unequal sizes."""

    def __init__(self, out_h: int, out_w: int):
        super().__init__()
        self.out_size = (out_h, out_w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(x, self.out_size)


batch = 96
channels = 512
height = 120
width = 120
out_h = 7
out_w = 9


def get_inputs():
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [out_h, out_w]


KEVOLVE_CATEGORY = "pool"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 8, "height": 16, "width": 16, "out_h": 4, "out_w": 4},
    "small_odd": {"batch": 3, "channels": 5, "height": 17, "width": 13, "out_h": 5, "out_w": 3},
    "odd": {"batch": 93, "channels": 509, "height": 123, "width": 117, "out_h": 5, "out_w": 11},
}
