import torch
import torch.nn as nn


class Model(nn.Module):
    """Product of two square n x n matrices."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b


n = 4096


def get_inputs():
    # The second operand is scaled by 1/sqrt(n) so outputs are O(1) and fp32 rounding stays well inside tolerance.
    return [torch.randn(n, n), torch.randn(n, n) * n**-0.5]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "matmul"
KEVOLVE_CONFIGS = {
    "small": {"n": 128},
    "small_odd": {"n": 97},
    "odd": {"n": 4011},
}
