import torch
import torch.nn as nn


class Model(nn.Module):
    """a @ b^T where a is m x k and b is stored n x k (row-major, as a weight matrix is): the result is m x n."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b.transpose(0, 1))


m = 4096
k = 2048
n = 6144


def get_inputs():
    # The second operand is scaled by 1/sqrt(k) so outputs are O(1) and fp32 rounding stays well inside tolerance.
    return [torch.randn(m, k), torch.randn(n, k) * k**-0.5]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "matmul"
KEVOLVE_CONFIGS = {
    "small": {"m": 128, "k": 64, "n": 96},
    "small_odd": {"m": 101, "k": 67, "n": 83},
    "odd": {"m": 4001, "k": 2039, "n": 6151},
}
