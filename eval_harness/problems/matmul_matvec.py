import torch
import torch.nn as nn


class Model(nn.Module):
    """Matrix-vector product: an m x k matrix times a length-k vector, giving a length-m vector (memory-bound)."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.mv(a, x)


m = 131072
k = 6144


def get_inputs():
    # The second operand is scaled by 1/sqrt(k) so outputs are O(1) and fp32 rounding stays well inside tolerance.
    return [torch.randn(m, k), torch.randn(k) * k**-0.5]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "matmul"
KEVOLVE_CONFIGS = {
    "small": {"m": 512, "k": 256},
    "small_odd": {"m": 433, "k": 301},
    "odd": {"m": 130001, "k": 6151},
}
