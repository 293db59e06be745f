import torch
import torch.nn as nn


class Model(nn.Module):
    """Mean over the middle axis of a (batch, reduce, inner) tensor, giving (batch, inner): a strided reduction."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)


batch = 64
reduce = 2048
inner = 6144


def get_inputs():
    return [torch.randn(batch, reduce, inner)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "reduction"
KEVOLVE_CONFIGS = {
    "small": {"batch": 4, "reduce": 64, "inner": 128},
    "small_odd": {"batch": 3, "reduce": 77, "inner": 123},
    "odd": {"batch": 61, "reduce": 2001, "inner": 6553},
}
