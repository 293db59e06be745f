import torch
import torch.nn as nn


class Model(nn.Module):
    """Max pooling of a jagged batch of sequences (e.g. a user's clicked-item embeddings): `values` stacks every
    sequence's (length_i, dim) rows back to back and `lengths` (int64) gives each sequence's length; the result is
    the elementwise max over each sequence's rows, [segments, dim].

    torch.segment_reduce gives -inf for an empty segment (its identity for max; an `initial` value would also
    enter every non-empty segment's max), so empty sequences are set to zeros afterwards: an empty history
    pools to the zero vector.
    """

    def __init__(self):
        super().__init__()

    def forward(self, values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pooled = torch.segment_reduce(values, "max", lengths=lengths, axis=0)
        return torch.where((lengths > 0).unsqueeze(1), pooled, torch.zeros_like(pooled))


segments = 32768
dim = 128
min_len = 0
max_len = 128
zipf_alpha = 0.0
empty_frac = 0.0


def _lengths():
    """Segment lengths in [0, max_len]: uniform over [min_len, max_len], or, with zipf_alpha > 0, heavy-tailed
    (P(len = k) ~ k^-zipf_alpha) with one segment exactly max_len long; then about `empty_frac` of the other
    segments are emptied."""
    u = torch.rand(segments, dtype=torch.float64, device="cpu")
    if zipf_alpha > 0:
        top = float(max_len + 1)
        if zipf_alpha == 1.0:
            draw = top**u
        else:
            draw = (1.0 + u * (top ** (1.0 - zipf_alpha) - 1.0)) ** (1.0 / (1.0 - zipf_alpha))
        lengths = draw.floor().long().clamp(1, max_len)
    else:
        lengths = min_len + (u * (max_len - min_len + 1)).long().clamp(max=max_len - min_len)
    lengths[torch.rand(segments, device="cpu") < empty_frac] = 0
    if zipf_alpha > 0:
        lengths[int(torch.randint(0, segments, (1,), device="cpu"))] = max_len
    return lengths


def get_inputs():
    lengths = _lengths()
    return [torch.randn(int(lengths.sum()), dim, device="cpu"), lengths]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like with one segment max_len long; "empty" empties half the segments; "single" is
# one segment.
KEVOLVE_CONFIGS = {
    "small": {"segments": 32, "dim": 16, "max_len": 12},
    "small_odd": {"segments": 29, "dim": 13, "max_len": 11},
    "small_skewed": {"segments": 64, "dim": 16, "max_len": 500, "zipf_alpha": 1.4},
    "small_empty": {"segments": 32, "dim": 16, "max_len": 12, "empty_frac": 0.5},
    "small_single": {"segments": 1, "dim": 16, "min_len": 33, "max_len": 33},
    "odd": {"segments": 30011, "dim": 120, "max_len": 131},
    "skewed": {"max_len": 262144, "zipf_alpha": 1.8},
    "empty": {"empty_frac": 0.5},
    "single": {"segments": 1, "min_len": 1000000, "max_len": 1000000},
}
