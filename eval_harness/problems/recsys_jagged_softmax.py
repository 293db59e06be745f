import torch
import torch.nn as nn


class Model(nn.Module):
    """Softmax within segments, as for attention weights over each user's history (DIN/HSTU-style):
    `scores` is [sum(lengths), heads], every sequence's rows back to back, and `lengths` (int64) gives each
    sequence's length. Each head's scores are softmax-normalised over the rows of their own sequence (max-shifted
    for stability), so every non-empty sequence's weights sum to 1 per head; empty sequences have no rows."""

    def __init__(self):
        super().__init__()

    def forward(self, scores: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        segment = torch.repeat_interleave(torch.arange(lengths.shape[0], device=scores.device), lengths)
        peak = torch.segment_reduce(scores, "max", lengths=lengths, axis=0)
        shifted = torch.exp(scores - peak.index_select(0, segment))
        total = torch.segment_reduce(shifted, "sum", lengths=lengths, axis=0)
        return shifted / total.index_select(0, segment)


segments = 65536
heads = 8
min_len = 0
max_len = 200
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
    return [torch.randn(int(lengths.sum()), heads, device="cpu") * 3.0, lengths]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like with one sequence max_len long; "empty" empties half the sequences; "single" is
# one long sequence.
KEVOLVE_CONFIGS = {
    "small": {"segments": 32, "heads": 2, "max_len": 12},
    "small_odd": {"segments": 29, "heads": 3, "max_len": 11},
    "small_skewed": {"segments": 64, "heads": 2, "max_len": 500, "zipf_alpha": 1.4},
    "small_empty": {"segments": 32, "heads": 2, "max_len": 12, "empty_frac": 0.5},
    "small_single": {"segments": 1, "heads": 2, "min_len": 77, "max_len": 77},
    "odd": {"segments": 65521, "heads": 5, "max_len": 203},
    "skewed": {"max_len": 1000000, "zipf_alpha": 1.8},
    "empty": {"empty_frac": 0.5},
    "single": {"segments": 1, "min_len": 4000000, "max_len": 4000000},
}
