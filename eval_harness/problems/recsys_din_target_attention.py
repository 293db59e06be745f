import torch
import torch.nn as nn


class Model(nn.Module):
    """DIN-style target attention: sample b has a padded history of behaviour embeddings `history[b]` ([max_len,
    dim]) of which the first `lengths[b]` rows are real, and a target item embedding `target[b]`. The target is
    projected by a learned query matrix, scored against every history row (dot product / sqrt(dim)), padded rows
    are masked out, the scores are softmax-normalised over the real rows, and the result is the weighted sum of
    the history rows, [batch, dim]. A sample with an empty history gets zeros."""

    def __init__(self, dim: int):
        super().__init__()
        self.query = nn.Linear(dim, dim, bias=False)

    def forward(self, history: torch.Tensor, lengths: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        q = self.query(target)
        scores = torch.einsum("bld,bd->bl", history, q) / history.shape[-1] ** 0.5
        valid = torch.arange(history.shape[1], device=history.device).unsqueeze(0) < lengths.unsqueeze(1)
        weights = torch.softmax(scores.masked_fill(~valid, float("-inf")), dim=1)
        weights = torch.where(valid, weights, torch.zeros_like(weights))
        return torch.einsum("bl,bld->bd", weights, history)


batch = 8192
max_len = 512
dim = 64
min_len = 0
zipf_alpha = 0.0
empty_frac = 0.0


def _lengths():
    """History lengths in [0, max_len]: uniform over [min_len, max_len], or, with zipf_alpha > 0, heavy-tailed
    (P(len = k) ~ k^-zipf_alpha) with one sample's history exactly max_len long; then about `empty_frac` of the
    other samples get an empty history."""
    u = torch.rand(batch, dtype=torch.float64, device="cpu")
    if zipf_alpha > 0:
        top = float(max_len + 1)
        if zipf_alpha == 1.0:
            draw = top**u
        else:
            draw = (1.0 + u * (top ** (1.0 - zipf_alpha) - 1.0)) ** (1.0 / (1.0 - zipf_alpha))
        lengths = draw.floor().long().clamp(1, max_len)
    else:
        lengths = min_len + (u * (max_len - min_len + 1)).long().clamp(max=max_len - min_len)
    lengths[torch.rand(batch, device="cpu") < empty_frac] = 0
    if zipf_alpha > 0:
        lengths[int(torch.randint(0, batch, (1,), device="cpu"))] = max_len
    return lengths


def get_inputs():
    lengths = _lengths()
    history = torch.randn(batch, max_len, dim, device="cpu")
    return [history, lengths, torch.randn(batch, dim, device="cpu")]


def get_init_inputs():
    return [dim]


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like (most histories a few rows, one full); "empty" gives 40% of the samples an
# empty history; "single" is one sample with a full history.
KEVOLVE_CONFIGS = {
    "small": {"batch": 16, "max_len": 12, "dim": 16},
    "small_odd": {"batch": 13, "max_len": 11, "dim": 13},
    "small_skewed": {"batch": 64, "max_len": 200, "dim": 8, "zipf_alpha": 1.3},
    "small_empty": {"batch": 16, "max_len": 12, "dim": 16, "empty_frac": 0.4},
    "small_single": {"batch": 1, "max_len": 40, "dim": 16, "min_len": 40},
    "odd": {"batch": 8191, "max_len": 509, "dim": 72},
    "skewed": {"batch": 2048, "max_len": 4096, "zipf_alpha": 1.3},
    "empty": {"empty_frac": 0.4},
    "single": {"batch": 1, "max_len": 65536, "min_len": 65536},
}
