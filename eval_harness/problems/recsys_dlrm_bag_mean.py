import torch
import torch.nn as nn


class Model(nn.Module):
    """DLRM-style sparse arch: `num_tables` embedding tables, each pooled by mean over the same bag layout.

    `indices[t]` holds table t's int32 ids for every bag back to back, and the int32 `offsets` (include_last_offset
    layout: bags + 1 entries, the last one the total) is shared by all tables, so bag b of every table covers
    positions offsets[b]:offsets[b + 1]. Each table gives the mean of its bag's rows (zeros for an empty bag); the
    result is the tables' pooled rows side by side, [bags, num_tables * dim].
    """

    def __init__(self, num_tables: int, num_rows: int, dim: int):
        super().__init__()
        self.tables = nn.ModuleList(
            nn.EmbeddingBag(num_rows, dim, mode="mean", include_last_offset=True) for _ in range(num_tables)
        )

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return torch.cat([table(indices[t], offsets) for t, table in enumerate(self.tables)], dim=1)


num_tables = 8
num_rows = 250000
dim = 128
bags = 16384
min_len = 0
max_len = 64
zipf_alpha = 0.0
empty_frac = 0.0


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
    offsets = torch.zeros(bags + 1, dtype=torch.int64, device="cpu")
    offsets[1:] = torch.cumsum(lengths, 0)
    total = int(offsets[-1])
    indices = torch.randint(0, num_rows, (num_tables, total), device="cpu", dtype=torch.int32)
    return [indices, offsets.to(torch.int32)]


def get_init_inputs():
    return [num_tables, num_rows, dim]


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like with one bag max_len long; "empty" empties 40% of the bags; "single" is one bag.
KEVOLVE_CONFIGS = {
    "small": {"num_tables": 3, "num_rows": 1000, "dim": 16, "bags": 64, "max_len": 8},
    "small_odd": {"num_tables": 2, "num_rows": 997, "dim": 13, "bags": 37, "max_len": 11},
    "small_skewed": {"num_tables": 2, "num_rows": 1000, "dim": 16, "bags": 200, "max_len": 400, "zipf_alpha": 1.3},
    "small_empty": {"num_tables": 2, "num_rows": 1000, "dim": 16, "bags": 64, "max_len": 8, "empty_frac": 0.4},
    "small_single": {"num_tables": 2, "num_rows": 1000, "dim": 16, "bags": 1, "min_len": 50, "max_len": 50},
    "odd": {"num_tables": 7, "num_rows": 249989, "dim": 120, "bags": 16001, "max_len": 67},
    "skewed": {"bags": 16384, "max_len": 8192, "zipf_alpha": 1.7},
    "empty": {"bags": 16384, "max_len": 64, "empty_frac": 0.4},
    "single": {"bags": 1, "min_len": 65536, "max_len": 65536},
}
