import torch
import torch.nn as nn


class Model(nn.Module):
    """Id preprocessing of a ranking model's input. Sparse part: a keyed jagged tensor of raw int64 ids, feature
    major (`lengths` is [num_features * batch]: the id counts of feature 0 for every sample, then feature 1, ...;
    `values` holds the ids in that order). Every id is hashed with its feature's salt, multiplicatively and
    without int64 overflow (31-bit halves times 32-bit odd constants, then an xor-shift), and taken modulo
    `table_size`. Dense part: each float feature of `dense` ([batch, num_dense]) is bucketized against the sorted
    `boundaries`. Returns (hashed ids [sum(lengths)] int64 in [0, table_size), bucket ids [batch, num_dense]
    int64 in [0, len(boundaries)])."""

    def __init__(self, num_features: int, table_size: int):
        super().__init__()
        self.num_features = num_features
        self.table_size = table_size

    def forward(self, values, lengths, dense, boundaries):
        per_feature = lengths.view(self.num_features, -1).sum(1)
        feature = torch.repeat_interleave(torch.arange(self.num_features, device=values.device), per_feature)
        low = values & 0x7FFFFFFF
        high = (values >> 31) & 0x7FFFFFFF
        h = (low * 0x9E3779B1) ^ (high * 0x85EBCA77) ^ ((feature + 1) * 0xC2B2AE3D)
        h = h ^ (h >> 29)
        hashed = torch.remainder(h, self.table_size)
        return hashed, torch.bucketize(dense, boundaries)


num_features = 26
batch = 65536
num_dense = 13
num_boundaries = 255
table_size = 10000019
min_len = 0
max_len = 40
zipf_alpha = 0.0
empty_frac = 0.0


def _lengths():
    """Ids per (feature, sample) in [0, max_len]: uniform over [min_len, max_len], or, with zipf_alpha > 0,
    heavy-tailed (P(len = k) ~ k^-zipf_alpha) with one entry exactly max_len long; then about `empty_frac` of
    the other entries are emptied (a sample without that feature)."""
    count = num_features * batch
    u = torch.rand(count, dtype=torch.float64, device="cpu")
    if zipf_alpha > 0:
        top = float(max_len + 1)
        if zipf_alpha == 1.0:
            draw = top**u
        else:
            draw = (1.0 + u * (top ** (1.0 - zipf_alpha) - 1.0)) ** (1.0 / (1.0 - zipf_alpha))
        lengths = draw.floor().long().clamp(1, max_len)
    else:
        lengths = min_len + (u * (max_len - min_len + 1)).long().clamp(max=max_len - min_len)
    lengths[torch.rand(count, device="cpu") < empty_frac] = 0
    if zipf_alpha > 0:
        lengths[int(torch.randint(0, count, (1,), device="cpu"))] = max_len
    return lengths


def get_inputs():
    lengths = _lengths()
    values = torch.randint(0, 2**62, (int(lengths.sum()),), device="cpu")
    dense = torch.randn(batch, num_dense, device="cpu") * 2.0
    boundaries = torch.sort(torch.randn(num_boundaries, device="cpu") * 2.0).values
    return [values, lengths, dense, boundaries]


def get_init_inputs():
    return [num_features, table_size]


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like with one (feature, sample) holding max_len ids; "empty" empties 70% of the
# entries; "single" is one feature of one sample.
KEVOLVE_CONFIGS = {
    "small": {"num_features": 4, "batch": 16, "num_dense": 3, "num_boundaries": 15, "table_size": 1009, "max_len": 6},
    "small_odd": {"num_features": 3, "batch": 13, "num_dense": 5, "num_boundaries": 11, "table_size": 997,
                  "max_len": 7},
    "small_skewed": {"num_features": 4, "batch": 32, "num_dense": 3, "num_boundaries": 15, "table_size": 1009,
                     "max_len": 500, "zipf_alpha": 1.4},
    "small_empty": {"num_features": 4, "batch": 16, "num_dense": 3, "num_boundaries": 15, "table_size": 1009,
                    "max_len": 6, "empty_frac": 0.7},
    "small_single": {"num_features": 1, "batch": 1, "num_dense": 3, "num_boundaries": 15, "table_size": 1009,
                     "min_len": 20, "max_len": 20},
    "odd": {"num_features": 23, "batch": 65521, "num_dense": 11, "num_boundaries": 251, "table_size": 9999991,
            "max_len": 43},
    "skewed": {"max_len": 100000, "zipf_alpha": 2.0},
    "empty": {"empty_frac": 0.7},
    "single": {"num_features": 1, "batch": 1, "min_len": 4000000, "max_len": 4000000},
}
