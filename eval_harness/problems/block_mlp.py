import torch
import torch.nn as nn


class Model(nn.Module):
    """Three-layer perceptron: Linear -> GELU -> Linear -> GELU -> Linear, all layers with bias."""

    def __init__(self, in_features: int, hidden: int, out_features: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, out_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


batch = 4096
in_features = 1024
hidden = 4096
out_features = 1024


def get_inputs():
    return [torch.randn(batch, in_features)]


def get_init_inputs():
    return [in_features, hidden, out_features]


KEVOLVE_CATEGORY = "block"
KEVOLVE_CONFIGS = {
    "small": {"batch": 32, "in_features": 64, "hidden": 128, "out_features": 32},
    "small_odd": {"batch": 29, "in_features": 57, "hidden": 131, "out_features": 19},
    "odd": {"batch": 4001, "in_features": 1000, "hidden": 4100, "out_features": 999},
}
