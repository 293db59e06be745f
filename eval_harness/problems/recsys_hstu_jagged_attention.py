import torch
import torch.nn as nn


class Model(nn.Module):
    """HSTU-style pointwise jagged attention over users' action sequences. q, k and v are jagged, [sum(lengths),
    heads, head_dim] with every sequence's rows back to back, and `offsets` (int64, segments + 1 entries from 0,
    non-decreasing) delimits them. Within each sequence and head, position i attends to positions j <= i (causal,
    never across sequences) with weight silu(alpha * q_i . k_j) / max_len (pointwise SiLU instead of softmax,
    normalised by the model's maximum length); the output is the sum of the weighted v_j, jagged like q.

    Computed group by group: sequences whose lengths fall in (w/2, w] are padded to w and attended densely (a few
    at a time), so one long sequence does not pad every other sequence to its length.
    """

    def __init__(self, max_len: int, alpha: float):
        super().__init__()
        self.max_len = max_len
        self.alpha = alpha

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        lengths = offsets[1:] - offsets[:-1]
        out = torch.zeros_like(v)
        longest = int(lengths.max()) if lengths.numel() else 0
        low, width = 0, 1
        while low < longest:
            members = ((lengths > low) & (lengths <= width)).nonzero().squeeze(1)
            # At most ~512 MB of fp32 scores at a time.
            for chunk in members.split(max(1, 2**27 // (q.shape[1] * width * width))):
                self._attend(q, k, v, out, offsets[chunk], lengths[chunk], width)
            low, width = width, width * 2
        return out

    def _attend(self, q, k, v, out, starts, lengths, width):
        position = torch.arange(width, device=q.device)
        valid = position.unsqueeze(0) < lengths.unsqueeze(1)
        rows = (starts.unsqueeze(1) + position.unsqueeze(0))[valid]

        def padded(x):
            dense = x.new_zeros(lengths.shape[0], width, x.shape[1], x.shape[2])
            dense[valid] = x[rows]
            return dense.transpose(1, 2)

        qd, kd, vd = padded(q), padded(k), padded(v)
        scores = qd @ kd.transpose(-1, -2)
        scores = torch.nn.functional.silu(scores.mul_(self.alpha), inplace=True).div_(self.max_len)
        scores.mul_(torch.ones(width, width, dtype=torch.bool, device=q.device).tril())
        out[rows] = (scores @ vd).transpose(1, 2)[valid]


segments = 256
max_len = 512
heads = 4
head_dim = 64
alpha = 0.125
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
    offsets = torch.zeros(segments + 1, dtype=torch.int64, device="cpu")
    offsets[1:] = torch.cumsum(lengths, 0)
    total = int(offsets[-1])
    q, k, v = (torch.randn(total, heads, head_dim, device="cpu") for _ in range(3))
    return [q, k, v, offsets]


def get_init_inputs():
    return [max_len, alpha]


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like (most sequences short, one max_len long); "empty" empties 40% of the sequences;
# "single" is one full-length sequence.
KEVOLVE_CONFIGS = {
    "small": {"segments": 4, "max_len": 16, "heads": 2, "head_dim": 8},
    "small_odd": {"segments": 5, "max_len": 13, "heads": 3, "head_dim": 7},
    "small_skewed": {"segments": 16, "max_len": 64, "heads": 2, "head_dim": 8, "zipf_alpha": 1.3},
    "small_empty": {"segments": 6, "max_len": 16, "heads": 2, "head_dim": 8, "empty_frac": 0.4},
    "small_single": {"segments": 1, "max_len": 24, "heads": 2, "head_dim": 8, "min_len": 24},
    "odd": {"segments": 251, "max_len": 509, "heads": 3, "head_dim": 40},
    "skewed": {"max_len": 8192, "zipf_alpha": 1.5},
    "empty": {"empty_frac": 0.4},
    "single": {"segments": 1, "max_len": 8192, "min_len": 8192},
}
