import torch
import torch.nn as nn


class Model(nn.Module):
    """LayerNorm over the hidden dimension of [tokens, hidden], with a learnable weight and bias.

    The affine parameters are drawn at random (not left at ones and zeros) so that a kernel which
    drops them, or swaps them, does not match.
    """

    def __init__(self, hidden: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden, elementwise_affine=True)
        with torch.no_grad():
            self.norm.weight.copy_(1.0 + 0.1 * torch.randn(hidden))
            self.norm.bias.copy_(0.1 * torch.randn(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


tokens = 131072
hidden = 4096


def get_inputs():
    return [torch.randn(tokens, hidden)]


def get_init_inputs():
    return [hidden]


KEVOLVE_CATEGORY = "norm"
KEVOLVE_CONFIGS = {
    "small": {"tokens": 64, "hidden": 256},
    "small_odd": {"tokens": 37, "hidden": 301},
    "odd": {"tokens": 33333, "hidden": 5003},
}
