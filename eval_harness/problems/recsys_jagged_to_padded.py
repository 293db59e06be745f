import torch
import torch.nn as nn


class Model(nn.Module):
    """Jagged to padded dense: `values` stacks every sequence's (length_i, dim) rows back to back, with
    `offsets` (int64, segments + 1 entries, starting at 0, non-decreasing) marking where sequence i starts and
    ends. The result is [segments, max_len, dim]: row j of sequence i is values[offsets[i] + j] for j below both
    the sequence's length and `max_len` (longer sequences are truncated), and 0.0 elsewhere.

    Written with generic ops (a gather index from offsets and arange, masked by arange < length), not
    torch.ops.aten._jagged_to_padded_dense_forward.
    """

    def __init__(self, max_len: int):
        super().__init__()
        self.max_len = max_len

    def forward(self, values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        lengths = offsets[1:] - offsets[:-1]
        position = torch.arange(self.max_len, device=values.device)
        valid = position.unsqueeze(0) < lengths.unsqueeze(1)
        source = offsets[:-1].unsqueeze(1) + position.unsqueeze(0)
        padded = values.new_zeros(lengths.shape[0], self.max_len, values.shape[1])
        padded[valid] = values[source[valid]]
        return padded


segments = 8192
max_len = 256
dim = 128
min_len = 0
longest = 256
zipf_alpha = 0.0
empty_frac = 0.0


def _lengths():
    """Sequence lengths in [0, longest] (which may exceed max_len, to exercise truncation): uniform over
    [min_len, longest], or, with zipf_alpha > 0, heavy-tailed (P(len = k) ~ k^-zipf_alpha) with one sequence
    exactly `longest` long; then about `empty_frac` of the other sequences are emptied."""
    u = torch.rand(segments, dtype=torch.float64, device="cpu")
    if zipf_alpha > 0:
        top = float(longest + 1)
        if zipf_alpha == 1.0:
            draw = top**u
        else:
            draw = (1.0 + u * (top ** (1.0 - zipf_alpha) - 1.0)) ** (1.0 / (1.0 - zipf_alpha))
        lengths = draw.floor().long().clamp(1, longest)
    else:
        lengths = min_len + (u * (longest - min_len + 1)).long().clamp(max=longest - min_len)
    lengths[torch.rand(segments, device="cpu") < empty_frac] = 0
    if zipf_alpha > 0:
        lengths[int(torch.randint(0, segments, (1,), device="cpu"))] = longest
    return lengths


def get_inputs():
    lengths = _lengths()
    offsets = torch.zeros(segments + 1, dtype=torch.int64, device="cpu")
    offsets[1:] = torch.cumsum(lengths, 0)
    return [torch.randn(int(offsets[-1]), dim, device="cpu"), offsets]


def get_init_inputs():
    return [max_len]


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like with one sequence 64x longer than max_len (truncated); "empty" empties 40% of
# the sequences; "single" is one sequence longer than max_len.
KEVOLVE_CONFIGS = {
    "small": {"segments": 16, "max_len": 8, "dim": 16, "longest": 10},
    "small_odd": {"segments": 13, "max_len": 7, "dim": 11, "longest": 9},
    "small_skewed": {"segments": 64, "max_len": 16, "dim": 8, "longest": 300, "zipf_alpha": 1.3},
    "small_empty": {"segments": 16, "max_len": 8, "dim": 16, "longest": 8, "empty_frac": 0.4},
    "small_single": {"segments": 1, "max_len": 24, "dim": 16, "min_len": 30, "longest": 30},
    "odd": {"segments": 8191, "max_len": 251, "dim": 120, "longest": 263},
    "skewed": {"longest": 16384, "zipf_alpha": 1.5},
    "empty": {"empty_frac": 0.4},
    "single": {"segments": 1, "max_len": 4096, "min_len": 5000, "longest": 5000},
}
