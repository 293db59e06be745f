import torch
import torch.nn as nn


class Model(nn.Module):
    """Inclusive prefix sum along each row of a 2-D tensor."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(x, dim=1)


rows = 131072
cols = 4096


def get_inputs():
    # Scaled by 1/sqrt(cols) so prefix sums stay O(1) and fp32 rounding stays well inside tolerance.
    return [torch.randn(rows, cols) * cols**-0.5]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "scan"
KEVOLVE_CONFIGS = {
    "small": {"rows": 32, "cols": 256},
    "small_odd": {"rows": 19, "cols": 333},
    "odd": {"rows": 130003, "cols": 4111},
}
