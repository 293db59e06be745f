import torch
import torch.nn as nn


class Model(nn.Module):
    """Product of a tall, narrow (m x k, m >> k) matrix with a small k x n matrix, as in projecting many tokens."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


m = 262144
k = 512
n = 512


def get_inputs():
    # The second operand is scaled by 1/sqrt(k) so outputs are O(1) and fp32 rounding stays well inside tolerance.
    return [torch.randn(m, k), torch.randn(k, n) * k**-0.5]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "matmul"
KEVOLVE_CONFIGS = {
    "small": {"m": 2048, "k": 32, "n": 32},
    "small_odd": {"m": 1999, "k": 37, "n": 29},
    "odd": {"m": 250007, "k": 509, "n": 515},
}
