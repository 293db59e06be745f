import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Inference-time conv block: bias-free 3x3 convolution, batch normalisation with fixed running statistics
    (eval mode), then ReLU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.weight = nn.Parameter(1.0 + 0.3 * torch.randn(out_channels))
        self.bias = nn.Parameter(0.3 * torch.randn(out_channels))
        self.register_buffer("running_mean", 0.2 * torch.randn(out_channels))
        self.register_buffer("running_var", 0.25 + torch.rand(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        y = F.batch_norm(y, self.running_mean, self.running_var, self.weight, self.bias, training=False, eps=1e-5)
        return F.relu(y)


batch = 32
in_channels = 64
out_channels = 128
height = 128
width = 128


def get_inputs():
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels]


KEVOLVE_CATEGORY = "fusion"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "in_channels": 4, "out_channels": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "in_channels": 5, "out_channels": 7, "height": 13, "width": 11},
    "odd": {"batch": 31, "in_channels": 61, "out_channels": 131, "height": 127, "width": 129},
}
