import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Gated linear unit with a SiLU gate: silu(gate) * value, elementwise over two same-shape tensors."""

    def __init__(self):
        super().__init__()

    def forward(self, gate: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        return F.silu(gate) * value


rows = 8192
cols = 32768


def get_inputs():
    return [torch.randn(rows, cols), torch.randn(rows, cols)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "elementwise"
KEVOLVE_CONFIGS = {
    "small": {"rows": 64, "cols": 256},
    "small_odd": {"rows": 45, "cols": 333},
    "odd": {"rows": 7919, "cols": 30001},
}
