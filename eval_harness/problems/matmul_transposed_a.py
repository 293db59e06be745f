import torch
import torch.nn as nn


class Model(nn.Module):
    """a^T @ b where a is stored k x m (so the left operand is read transposed) and b is k x n; the result is m x n."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a.t() @ b


k = 8192
m = 2048
n = 4096


def get_inputs():
    # The second operand is scaled by 1/sqrt(k) so outputs are O(1) and fp32 rounding stays well inside tolerance.
    return [torch.randn(k, m), torch.randn(k, n) * k**-0.5]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "matmul"
KEVOLVE_CONFIGS = {
    "small": {"k": 256, "m": 64, "n": 128},
    "small_odd": {"k": 203, "m": 61, "n": 99},
    "odd": {"k": 8001, "m": 2047, "n": 4099},
}
