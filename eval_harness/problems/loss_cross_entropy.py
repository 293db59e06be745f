import torch
import torch.nn as nn


class Model(nn.Module):
    """Cross-entropy loss with mean reduction: logits [batch, classes], int64 class targets [batch]."""

    def __init__(self):
        super().__init__()

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits, targets)


batch = 16384
classes = 32768


def get_inputs():
    return [torch.randn(batch, classes), torch.randint(0, classes, (batch,), dtype=torch.int64)]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "loss"
KEVOLVE_CONFIGS = {
    "small": {"batch": 64, "classes": 256},
    "small_odd": {"batch": 37, "classes": 1001},
    "odd": {"batch": 12289, "classes": 50257},
}
