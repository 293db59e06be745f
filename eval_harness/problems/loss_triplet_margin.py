import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Per-sample triplet margin loss for metric learning: max(0, ||a - p||_2 - ||a - n||_2 + margin) per row."""

    def __init__(self, margin: float):
        super().__init__()
        self.margin = margin

    def forward(self, anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=2.0, reduction="none")


batch = 49152
dim = 4096
margin = 1.0


def get_inputs():
    return [torch.randn(batch, dim), torch.randn(batch, dim), torch.randn(batch, dim)]


def get_init_inputs():
    return [margin]


KEVOLVE_CATEGORY = "loss"
KEVOLVE_CONFIGS = {
    "small": {"batch": 128, "dim": 128},
    "small_odd": {"batch": 97, "dim": 75},
    "odd": {"batch": 48001, "dim": 4111, "margin": 0.5},
}
