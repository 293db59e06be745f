import torch
import torch.nn as nn


class Model(nn.Module):
    """Mean pooling of a jagged batch: `values` stacks every sequence's (length_i, dim) rows back to back and
    `lengths` gives each sequence's length; the result is one mean row per sequence (zeros for empty ones)."""

    def __init__(self):
        super().__init__()

    def forward(self, values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        sums = torch.segment_reduce(values, "sum", lengths=lengths, axis=0)
        counts = lengths.clamp(min=1).to(values.dtype).unsqueeze(1)
        return sums / counts


segments = 32768
max_len = 192
dim = 256


def get_inputs():
    lengths = torch.randint(0, max_len + 1, (segments,))
    values = torch.randn(int(lengths.sum()), dim)
    return [values, lengths]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
KEVOLVE_CONFIGS = {
    "small": {"segments": 32, "max_len": 16, "dim": 32},
    "small_odd": {"segments": 29, "max_len": 13, "dim": 19},
    "odd": {"segments": 30011, "max_len": 205, "dim": 250},
}
