import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Residual convolution block at inference: conv3x3 -> batch norm (running statistics) -> ReLU -> conv3x3 ->
    batch norm, added to the block's input, then a final ReLU. Channels and spatial size are preserved."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        for i in (1, 2):
            self.register_parameter(f"bn{i}_weight", nn.Parameter(1.0 + 0.2 * torch.randn(channels)))
            self.register_parameter(f"bn{i}_bias", nn.Parameter(0.2 * torch.randn(channels)))
            self.register_buffer(f"bn{i}_mean", 0.1 * torch.randn(channels))
            self.register_buffer(f"bn{i}_var", 0.2 + 0.5 * torch.rand(channels))

    def _bn(self, y: torch.Tensor, i: int) -> torch.Tensor:
        return F.batch_norm(
            y,
            getattr(self, f"bn{i}_mean"),
            getattr(self, f"bn{i}_var"),
            getattr(self, f"bn{i}_weight"),
            getattr(self, f"bn{i}_bias"),
            training=False,
            eps=1e-5,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self._bn(self.conv1(x), 1))
        y = self._bn(self.conv2(y), 2)
        return F.relu(x + y)


batch = 16
channels = 128
height = 96
width = 96


def get_inputs():
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [channels]


KEVOLVE_CATEGORY = "block"
KEVOLVE_CONFIGS = {
    "small": {"batch": 2, "channels": 8, "height": 16, "width": 16},
    "small_odd": {"batch": 3, "channels": 7, "height": 11, "width": 13},
    "odd": {"batch": 15, "channels": 131, "height": 97, "width": 93},
}
