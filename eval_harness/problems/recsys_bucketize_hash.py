import torch
import torch.nn as nn


class Model(nn.Module):
    """Feature preprocessing for an embedding lookup: each float feature is bucketized against shared sorted
    boundaries, and the (bucket, feature column) pair is hashed multiplicatively into [0, table_size) as int64."""

    def __init__(self, table_size: int):
        super().__init__()
        self.table_size = table_size

    def forward(self, x: torch.Tensor, boundaries: torch.Tensor) -> torch.Tensor:
        buckets = torch.bucketize(x, boundaries)
        column = torch.arange(x.shape[1], device=x.device, dtype=torch.int64)
        key = ((buckets + 1) * 2654435761) ^ ((column + 1) * 2246822519)
        return torch.remainder(key, self.table_size)


batch = 2097152
features = 64
num_boundaries = 1023
table_size = 1000003


def get_inputs():
    boundaries = torch.sort(torch.randn(num_boundaries) * 2.0).values
    return [torch.randn(batch, features) * 2.0, boundaries]


def get_init_inputs():
    return [table_size]


KEVOLVE_CATEGORY = "recsys"
KEVOLVE_CONFIGS = {
    "small": {"batch": 256, "features": 16, "num_boundaries": 63, "table_size": 1009},
    "small_odd": {"batch": 199, "features": 13, "num_boundaries": 37, "table_size": 997},
    "odd": {"batch": 2000003, "features": 61, "num_boundaries": 999, "table_size": 500009},
}
