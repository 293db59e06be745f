import torch
import torch.nn as nn


class Model(nn.Module):
    """A linear layer followed by ReLU: the GEMM may stay on the vendor library under hybrid."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        return torch.relu(self.linear(x))


batch = 32
in_features = 64
out_features = 48


def get_inputs():
    return [torch.randn(batch, in_features)]


def get_init_inputs():
    return [in_features, out_features]


KEVOLVE_CONFIGS = {"small": {"batch": 32}, "small_odd": {"batch": 7, "in_features": 33, "out_features": 17}}
