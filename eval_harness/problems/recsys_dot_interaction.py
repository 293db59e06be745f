import torch
import torch.nn as nn


class Model(nn.Module):
    """Pairwise feature interaction of a click-through-rate model: the dense feature vector and the sparse feature
    embeddings of each sample are stacked into F + 1 vectors, all pairwise dot products are taken, and the strict
    upper triangle of that (F + 1) x (F + 1) matrix is concatenated after the dense vector."""

    def __init__(self):
        super().__init__()

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        feats = torch.cat([dense.unsqueeze(1), sparse], dim=1)
        gram = torch.bmm(feats, feats.transpose(1, 2))
        n = feats.shape[1]
        rows, cols = torch.triu_indices(n, n, offset=1, device=dense.device)
        return torch.cat([dense, gram[:, rows, cols]], dim=1)


batch = 131072
num_sparse = 26
dim = 128


def get_inputs():
    return [torch.randn(batch, dim), torch.randn(batch, num_sparse, dim)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
KEVOLVE_CONFIGS = {
    "small": {"batch": 64, "num_sparse": 8, "dim": 16},
    "small_odd": {"batch": 37, "num_sparse": 5, "dim": 13},
    "odd": {"batch": 120011, "num_sparse": 29, "dim": 120},
}
