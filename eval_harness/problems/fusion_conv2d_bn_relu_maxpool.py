import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """An image model's stem at inference: a bias-free 7x7 stride-2 convolution, batch normalisation with fixed
    running statistics, ReLU, then a 3x3 stride-2 max pool with padding, whose windows overlap."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 7, stride=2, padding=3, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)
        with torch.no_grad():  # statistics of a trained model rather than the initial zeros and ones
            self.norm.weight.copy_(1.0 + 0.3 * torch.randn(out_channels))
            self.norm.bias.copy_(0.3 * torch.randn(out_channels))
            self.norm.running_mean.copy_(0.2 * torch.randn(out_channels))
            self.norm.running_var.copy_(0.25 + torch.rand(out_channels))
        self.norm.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm(self.conv(x)))
        return F.max_pool2d(y, 3, stride=2, padding=1)


batch = 64
in_channels = 3
out_channels = 64
height = 224
width = 224


def get_inputs():
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels]


KEVOLVE_CATEGORY = "fusion"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "in_channels": 3, "out_channels": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "in_channels": 3, "out_channels": 7, "height": 15, "width": 21},
    "odd": {"batch": 29, "in_channels": 3, "out_channels": 67, "height": 223, "width": 199},
}
