import torch
import torch.nn as nn


class Model(nn.Module):
    """Transposed 2-D convolution that upsamples NCHW maps by 2 (kernel 4, stride 2, padding 1), with bias."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(x)


batch = 16
in_channels = 128
out_channels = 64
height = 128
width = 128


def get_inputs():
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels]


KEVOLVE_CATEGORY = "conv"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "in_channels": 8, "out_channels": 4, "height": 8, "width": 8},
    "small_odd": {"batch": 3, "in_channels": 5, "out_channels": 7, "height": 9, "width": 7},
    "odd": {"batch": 15, "in_channels": 127, "out_channels": 67, "height": 131, "width": 121},
}
