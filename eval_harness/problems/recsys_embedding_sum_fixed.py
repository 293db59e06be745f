import torch
import torch.nn as nn


class Model(nn.Module):
    """Fixed-hotness multi-hot feature pooling: every sample carries exactly `hotness` int64 ids of one sparse
    feature; each id is looked up in an embedding table (nn.Embedding) and the `hotness` rows are summed, giving
    [batch, dim]."""

    def __init__(self, num_rows: int, dim: int):
        super().__init__()
        self.table = nn.Embedding(num_rows, dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.table(ids).sum(1)


num_rows = 1000000
dim = 128
batch = 65536
hotness = 20
zipf_alpha = 0.0


def _ids(count):
    """`count` ids in [0, num_rows): uniform, or with zipf_alpha > 0 heavy-tailed by rank (P(id = r) ~
    (r + 1)^-zipf_alpha: a few hot rows take most lookups, as item popularity does)."""
    u = torch.rand(count, dtype=torch.float64, device="cpu")
    if zipf_alpha <= 0:
        return (u * num_rows).long().clamp(max=num_rows - 1)
    top = float(num_rows + 1)
    if zipf_alpha == 1.0:
        draw = top**u
    else:
        draw = (1.0 + u * (top ** (1.0 - zipf_alpha) - 1.0)) ** (1.0 / (1.0 - zipf_alpha))
    return (draw.floor().long() - 1).clamp(0, num_rows - 1)


def get_inputs():
    return [_ids(batch * hotness).view(batch, hotness)]


def get_init_inputs():
    return [num_rows, dim]


KEVOLVE_CATEGORY = "recsys"
# "skewed": Zipf-popular ids (many samples hit the same hot rows); "single": one sample; "one_hot": hotness 1.
KEVOLVE_CONFIGS = {
    "small": {"num_rows": 1000, "dim": 16, "batch": 64, "hotness": 4},
    "small_odd": {"num_rows": 997, "dim": 13, "batch": 37, "hotness": 7},
    "small_skewed": {"num_rows": 1000, "dim": 16, "batch": 64, "hotness": 8, "zipf_alpha": 1.1},
    "small_single": {"num_rows": 1000, "dim": 16, "batch": 1, "hotness": 9},
    "odd": {"num_rows": 999983, "dim": 120, "batch": 60001, "hotness": 23},
    "skewed": {"zipf_alpha": 1.05},
    "single": {"batch": 1, "hotness": 4096},
    "one_hot": {"batch": 262144, "hotness": 1},
}
