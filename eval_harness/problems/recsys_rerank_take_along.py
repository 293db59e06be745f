import torch
import torch.nn as nn


class Model(nn.Module):
    """Re-ranking selection: each sample has `num_candidates` candidate embeddings and scores; `picks` ([batch,
    k], int64 positions into the candidates) chooses k of them per sample. The result is the chosen candidates'
    embeddings (take_along_dim along dim 1), each scaled by its own score (gather along dim 1): [batch, k, dim]."""

    def __init__(self):
        super().__init__()

    def forward(self, cand: torch.Tensor, scores: torch.Tensor, picks: torch.Tensor) -> torch.Tensor:
        chosen = torch.take_along_dim(cand, picks.unsqueeze(-1), dim=1)
        return chosen * torch.gather(scores, 1, picks).unsqueeze(-1)


batch = 8192
num_candidates = 256
k = 64
dim = 128
zipf_alpha = 0.0


def _picks():
    """Positions in [0, num_candidates): uniform, or with zipf_alpha > 0 heavy-tailed towards the first
    (best-ranked) candidates, so several picks of a sample often repeat a position."""
    u = torch.rand(batch, k, dtype=torch.float64, device="cpu")
    if zipf_alpha <= 0:
        return (u * num_candidates).long().clamp(max=num_candidates - 1)
    top = float(num_candidates + 1)
    if zipf_alpha == 1.0:
        draw = top**u
    else:
        draw = (1.0 + u * (top ** (1.0 - zipf_alpha) - 1.0)) ** (1.0 / (1.0 - zipf_alpha))
    return (draw.floor().long() - 1).clamp(0, num_candidates - 1)


def get_inputs():
    cand = torch.randn(batch, num_candidates, dim, device="cpu")
    scores = torch.rand(batch, num_candidates, device="cpu")
    return [cand, scores, _picks()]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
# "skewed": picks concentrated on the top positions; "single": one pick of one sample; "all": k = num_candidates.
KEVOLVE_CONFIGS = {
    "small": {"batch": 16, "num_candidates": 32, "k": 8, "dim": 16},
    "small_odd": {"batch": 13, "num_candidates": 29, "k": 5, "dim": 11},
    "small_skewed": {"batch": 16, "num_candidates": 64, "k": 16, "dim": 16, "zipf_alpha": 1.2},
    "small_single": {"batch": 1, "num_candidates": 32, "k": 1, "dim": 16},
    "odd": {"batch": 8191, "num_candidates": 251, "k": 61, "dim": 120},
    "skewed": {"zipf_alpha": 1.2},
    "single": {"batch": 1, "k": 1},
    "all": {"batch": 2048, "k": 256},
}
