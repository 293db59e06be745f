import torch
import torch.nn as nn


class Model(nn.Module):
    """Mean pooling of one sparse feature with int32 ids and int32 offsets in the plain layout (`offsets` has one
    entry per bag, the start of that bag; the last bag runs to the end of `indices`), and padding id 0: padding
    ids are skipped and not counted, so a bag's result is the mean of its non-padding rows, and a bag that is
    empty or holds only padding gives zeros. [bags, dim]."""

    def __init__(self, num_rows: int, dim: int):
        super().__init__()
        self.bag = nn.EmbeddingBag(num_rows, dim, mode="mean", padding_idx=0)

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.bag(indices, offsets)


num_rows = 2000000
dim = 64
bags = 131072
min_len = 0
max_len = 100
zipf_alpha = 0.0
empty_frac = 0.0
pad_frac = 0.1


def _lengths():
    """Bag lengths in [0, max_len]: uniform over [min_len, max_len], or, with zipf_alpha > 0, heavy-tailed
    (P(len = k) ~ k^-zipf_alpha, most bags short) with one bag exactly max_len long; then about `empty_frac`
    of the other bags are emptied."""
    u = torch.rand(bags, dtype=torch.float64, device="cpu")
    if zipf_alpha > 0:
        top = float(max_len + 1)
        if zipf_alpha == 1.0:
            draw = top**u
        else:
            draw = (1.0 + u * (top ** (1.0 - zipf_alpha) - 1.0)) ** (1.0 / (1.0 - zipf_alpha))
        lengths = draw.floor().long().clamp(1, max_len)
    else:
        lengths = min_len + (u * (max_len - min_len + 1)).long().clamp(max=max_len - min_len)
    lengths[torch.rand(bags, device="cpu") < empty_frac] = 0
    if zipf_alpha > 0:
        lengths[int(torch.randint(0, bags, (1,), device="cpu"))] = max_len
    return lengths


def get_inputs():
    lengths = _lengths()
    offsets = torch.cumsum(lengths, 0) - lengths
    total = int(lengths.sum())
    indices = torch.randint(1, num_rows, (total,), device="cpu")
    indices[torch.rand(total, device="cpu") < pad_frac] = 0
    return [indices.to(torch.int32), offsets.to(torch.int32)]


def get_init_inputs():
    return [num_rows, dim]


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like with one bag max_len long; "empty" empties 40% of the bags; "single" is one bag;
# "mostly_padding" makes 90% of the ids padding (many bags pool nothing).
KEVOLVE_CONFIGS = {
    "small": {"num_rows": 1000, "dim": 16, "bags": 64, "max_len": 8},
    "small_odd": {"num_rows": 997, "dim": 13, "bags": 37, "max_len": 11},
    "small_skewed": {"num_rows": 1000, "dim": 16, "bags": 200, "max_len": 400, "zipf_alpha": 1.3},
    "small_empty": {"num_rows": 1000, "dim": 16, "bags": 64, "max_len": 8, "empty_frac": 0.4},
    "small_single": {"num_rows": 1000, "dim": 16, "bags": 1, "min_len": 50, "max_len": 50},
    "odd": {"num_rows": 1999993, "dim": 72, "bags": 131071, "max_len": 103},
    "skewed": {"max_len": 100000, "zipf_alpha": 1.8},
    "empty": {"empty_frac": 0.4},
    "single": {"bags": 1, "min_len": 1000000, "max_len": 1000000},
    "mostly_padding": {"pad_frac": 0.9, "max_len": 8},
}
