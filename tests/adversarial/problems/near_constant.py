import torch
import torch.nn as nn


class Model(nn.Module):
    """Degenerate on purpose: the output is within 1e-4 of zero whatever the input."""

    def forward(self, x):
        return x * 1e-6


rows = 64
cols = 256


def get_inputs():
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []


KEVOLVE_CONFIGS = {"small": {"rows": 64, "cols": 256}, "small_odd": {"rows": 33, "cols": 100}}
