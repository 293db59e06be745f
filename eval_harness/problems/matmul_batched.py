import torch
import torch.nn as nn


class Model(nn.Module):
    """Batched matrix product: for each of b batch entries, an (m x k) matrix times a (k x n) matrix."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.bmm(a, b)


batch = 128
m = 512
k = 1024
n = 768


def get_inputs():
    # The second operand is scaled by 1/sqrt(k) so outputs are O(1) and fp32 rounding stays well inside tolerance.
    return [torch.randn(batch, m, k), torch.randn(batch, k, n) * k**-0.5]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "matmul"
KEVOLVE_CONFIGS = {
    "small": {"batch": 4, "m": 32, "k": 64, "n": 48},
    "small_odd": {"batch": 3, "m": 29, "k": 53, "n": 41},
    "odd": {"batch": 125, "m": 509, "k": 1001, "n": 771},
}
