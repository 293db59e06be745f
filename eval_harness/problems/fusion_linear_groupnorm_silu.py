import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Feature projection followed by group normalisation over contiguous feature groups (with affine) and SiLU."""

    def __init__(self, in_features: int, out_features: int, groups: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=True)
        self.norm = nn.GroupNorm(groups, out_features, eps=1e-5, affine=True)
        with torch.no_grad():
            self.norm.weight.copy_(1.0 + 0.5 * torch.randn(out_features))
            self.norm.bias.copy_(0.5 * torch.randn(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(self.norm(self.linear(x)))


batch = 8192
in_features = 1024
out_features = 4096
groups = 32


def get_inputs():
    return [torch.randn(batch, in_features)]


def get_init_inputs():
    return [in_features, out_features, groups]


KEVOLVE_CATEGORY = "fusion"
KEVOLVE_CONFIGS = {
    "small": {"batch": 64, "in_features": 64, "out_features": 128, "groups": 8},
    "small_odd": {"batch": 39, "in_features": 71, "out_features": 99, "groups": 9},
    "odd": {"batch": 8001, "in_features": 1001, "out_features": 4104, "groups": 57},
}
