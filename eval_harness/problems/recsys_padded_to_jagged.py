import torch
import torch.nn as nn


class Model(nn.Module):
    """Padded dense to jagged: `padded` is [segments, max_len, dim] with sequence i's valid rows first, and
    `lengths` (int64, each in [0, max_len]) gives how many are valid. The result stacks every sequence's valid
    rows back to back in order, [sum(lengths), dim] (the inverse of jagged-to-padded)."""

    def __init__(self):
        super().__init__()

    def forward(self, padded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        position = torch.arange(padded.shape[1], device=padded.device)
        return padded[position.unsqueeze(0) < lengths.unsqueeze(1)]


segments = 8192
max_len = 256
dim = 128
min_len = 0
zipf_alpha = 0.0
empty_frac = 0.0


def _lengths():
    """Sequence lengths in [0, max_len]: uniform over [min_len, max_len], or, with zipf_alpha > 0, heavy-tailed
    (P(len = k) ~ k^-zipf_alpha) with one sequence exactly max_len long; then about `empty_frac` of the other
    sequences are emptied."""
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
    return [torch.randn(segments, max_len, dim, device="cpu"), lengths]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like (most sequences a few rows of a wide padded buffer, one full); "empty" empties
# 40% of the sequences; "single" is one full sequence.
KEVOLVE_CONFIGS = {
    "small": {"segments": 16, "max_len": 8, "dim": 16},
    "small_odd": {"segments": 13, "max_len": 7, "dim": 11},
    "small_skewed": {"segments": 64, "max_len": 64, "dim": 8, "zipf_alpha": 1.3},
    "small_empty": {"segments": 16, "max_len": 8, "dim": 16, "empty_frac": 0.4},
    "small_single": {"segments": 1, "max_len": 24, "dim": 16, "min_len": 24},
    "odd": {"segments": 8191, "max_len": 251, "dim": 120},
    "skewed": {"segments": 2048, "max_len": 2048, "zipf_alpha": 1.3},
    "empty": {"empty_frac": 0.4},
    "single": {"segments": 1, "max_len": 65536, "min_len": 65536},
}
