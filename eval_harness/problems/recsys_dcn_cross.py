import torch
import torch.nn as nn


class Model(nn.Module):
    """DCN-v2 cross network: starting from the concatenated input features x0 ([batch, dim]), each of
    `num_layers` full-rank cross layers computes x_{l+1} = x0 * (x_l @ W_l + b_l) + x_l (elementwise product
    with the layer-0 input, plus a residual); the result is the last layer's x, [batch, dim]."""

    def __init__(self, dim: int, num_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(dim, dim) for _ in range(num_layers))
        for layer in self.layers:  # small weights keep the product stack's magnitude steady across layers
            nn.init.normal_(layer.weight, std=0.5 / dim**0.5)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        x = x0
        for layer in self.layers:
            x = x0 * layer(x) + x
        return x


batch = 16384
dim = 1024
num_layers = 3


def get_inputs():
    return [torch.randn(batch, dim, device="cpu")]


def get_init_inputs():
    return [dim, num_layers]


KEVOLVE_CATEGORY = "recsys"
# No jagged structure: "single" is one sample, "one_layer" a single cross layer on a wide batch.
KEVOLVE_CONFIGS = {
    "small": {"batch": 32, "dim": 64, "num_layers": 2},
    "small_odd": {"batch": 29, "dim": 61, "num_layers": 3},
    "small_single": {"batch": 1, "dim": 64, "num_layers": 3},
    "odd": {"batch": 16381, "dim": 1000, "num_layers": 3},
    "single": {"batch": 1, "dim": 1024, "num_layers": 3},
    "one_layer": {"batch": 65536, "dim": 512, "num_layers": 1},
}
