import torch
import torch.nn as nn


class Model(nn.Module):
    """Sparse-only pairwise interaction (the dot-product interaction of a CTR model without the dense vector):
    `emb` is feature-major, [num_features, batch, dim], as per-table lookups stack it. For every sample, the dot
    products of all pairs (i, j) with i > j of its feature vectors are taken and returned flattened in row-major
    order of the strict lower triangle, [batch, num_features * (num_features - 1) / 2]."""

    def __init__(self):
        super().__init__()

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        per_sample = emb.transpose(0, 1)
        gram = torch.bmm(per_sample, per_sample.transpose(1, 2))
        n = emb.shape[0]
        rows, cols = torch.tril_indices(n, n, offset=-1, device=emb.device)
        return gram[:, rows, cols]


num_features = 32
batch = 65536
dim = 64


def get_inputs():
    return [torch.randn(num_features, batch, dim, device="cpu")]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
# No jagged structure: "single" is one sample, "pair" is two features (one dot per sample).
KEVOLVE_CONFIGS = {
    "small": {"num_features": 6, "batch": 32, "dim": 16},
    "small_odd": {"num_features": 7, "batch": 29, "dim": 13},
    "small_single": {"num_features": 5, "batch": 1, "dim": 16},
    "small_pair": {"num_features": 2, "batch": 32, "dim": 16},
    "odd": {"num_features": 27, "batch": 65521, "dim": 72},
    "single": {"batch": 1},
    "pair": {"num_features": 2, "batch": 1048576},
}
