import torch
import torch.nn as nn


class Model(nn.Module):
    """Weighted sum pooling of a sparse feature: each bag (a run of ids given by `offsets` into the flat `indices`)
    becomes the per-sample-weighted sum of its embedding rows; empty bags give zeros."""

    def __init__(self, num_rows: int, dim: int):
        super().__init__()
        self.bag = nn.EmbeddingBag(num_rows, dim, mode="sum")

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return self.bag(indices, offsets, per_sample_weights=weights)


num_rows = 1000000
dim = 128
bags = 65536
max_bag = 80


def get_inputs():
    lengths = torch.randint(0, max_bag + 1, (bags,))
    offsets = torch.cumsum(lengths, 0) - lengths
    total = int(lengths.sum())
    indices = torch.randint(0, num_rows, (total,))
    weights = torch.rand(total)
    return [indices, offsets, weights]


def get_init_inputs():
    return [num_rows, dim]


KEVOLVE_CATEGORY = "recsys"
KEVOLVE_CONFIGS = {
    "small": {"num_rows": 1000, "dim": 16, "bags": 64, "max_bag": 8},
    "small_odd": {"num_rows": 997, "dim": 13, "bags": 37, "max_bag": 11},
    "odd": {"num_rows": 999983, "dim": 120, "bags": 60001, "max_bag": 91},
}
