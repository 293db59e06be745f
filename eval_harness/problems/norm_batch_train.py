import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Training-mode batch normalisation of an NCHW tensor: each channel is normalised with the mean and biased
    variance of the current batch (over N, H, W), then scaled and shifted. No running statistics are kept."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(1.0 + 0.5 * torch.randn(channels))
        self.bias = nn.Parameter(0.5 * torch.randn(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, None, None, self.weight, self.bias, training=True, momentum=0.0, eps=1e-5)


batch = 128
channels = 128
height = 128
width = 128


def get_inputs():
    shift = torch.randn(1, channels, 1, 1) * 2.0
    scale = 0.5 + torch.rand(1, channels, 1, 1) * 2.0
    return [torch.randn(batch, channels, height, width) * scale + shift]


def get_init_inputs():
    return [channels]


KEVOLVE_CATEGORY = "norm"
KEVOLVE_CONFIGS = {
    "small": {"batch": 4, "channels": 16, "height": 16, "width": 16},
    "small_odd": {"batch": 5, "channels": 7, "height": 13, "width": 9},
    "odd": {"batch": 125, "channels": 131, "height": 127, "width": 123},
}
