import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Upsampling decoder stage: transposed 3x3 convolution with stride 2 (output exactly 2H x 2W), leaky ReLU,
    a learned per-channel gain, then clamping to [-1, 1]."""

    def __init__(self, in_channels: int, out_channels: int, negative_slope: float):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1, bias=True)
        self.gain = nn.Parameter(1.0 + torch.randn(out_channels, 1, 1))
        self.negative_slope = negative_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.leaky_relu(self.deconv(x), self.negative_slope)
        return torch.clamp(y * self.gain, -1.0, 1.0)


batch = 16
in_channels = 128
out_channels = 32
height = 128
width = 128
negative_slope = 0.1


def get_inputs():
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, negative_slope]


KEVOLVE_CATEGORY = "fusion"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "in_channels": 8, "out_channels": 4, "height": 8, "width": 8},
    "small_odd": {"batch": 3, "in_channels": 5, "out_channels": 3, "height": 7, "width": 9},
    "odd": {"batch": 15, "in_channels": 125, "out_channels": 35, "height": 131, "width": 119, "negative_slope": 0.2},
}
