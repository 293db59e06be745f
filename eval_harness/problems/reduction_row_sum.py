import torch
import torch.nn as nn


class Model(nn.Module):
    """Sum over the last dimension of a [rows, cols] matrix (keepdim=False), giving [rows].

    The inputs are uniform on [0, 1), all non-negative, so no row sum cancels: every sum is about
    cols / 2 and any fp32 summation order (tree, blocked, sequential) agrees with another to a
    relative error far below 1e-4. Zero-mean inputs would make some row sums close to zero, where
    the comparison degenerates to the absolute tolerance and merely reordering the adds can fail.
    """

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x, dim=-1, keepdim=False)


rows = 32768
cols = 24576


def get_inputs():
    return [torch.rand(rows, cols)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "reduction"
KEVOLVE_CONFIGS = {
    "small": {"rows": 64, "cols": 256},
    "small_odd": {"rows": 37, "cols": 301},
    "odd": {"rows": 30011, "cols": 25013},
}
