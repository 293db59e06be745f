import torch
import torch.nn as nn


class Model(nn.Module):
    """Sigmoid-gated blend of two tensors: a + sigmoid(g) * (b - a), elementwise over three inputs."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return a + torch.sigmoid(g) * (b - a)


rows = 8192
cols = 16384


def get_inputs():
    return [torch.randn(rows, cols), torch.randn(rows, cols), torch.randn(rows, cols) * 2.0]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "elementwise"
KEVOLVE_CONFIGS = {
    "small": {"rows": 64, "cols": 128},
    "small_odd": {"rows": 33, "cols": 211},
    "odd": {"rows": 8111, "cols": 15003},
}
