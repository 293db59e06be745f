import torch
import torch.nn as nn


class Model(nn.Module):
    """Ranking-time user-to-candidate broadcast: sample b has `lengths[b]` candidate items (their embeddings stacked
    back to back in `items`, [sum(lengths), item_dim]); each candidate row gets its own sample's user embedding
    (an index_select of `user` rows by the sample id of every candidate) concatenated in front of it, giving
    [sum(lengths), user_dim + item_dim]. Samples with no candidates contribute no rows."""

    def __init__(self):
        super().__init__()

    def forward(self, user: torch.Tensor, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        sample = torch.repeat_interleave(torch.arange(user.shape[0], device=user.device), lengths)
        return torch.cat([user.index_select(0, sample), items], dim=1)


batch = 8192
user_dim = 128
item_dim = 128
min_len = 0
max_len = 256
zipf_alpha = 0.0
empty_frac = 0.0


def _lengths():
    """Candidates per sample in [0, max_len]: uniform over [min_len, max_len], or, with zipf_alpha > 0,
    heavy-tailed (P(len = k) ~ k^-zipf_alpha) with one sample exactly max_len long; then about `empty_frac` of
    the other samples get no candidates."""
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
    user = torch.randn(batch, user_dim, device="cpu")
    items = torch.randn(int(lengths.sum()), item_dim, device="cpu")
    return [user, items, lengths]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
# Lengths: "skewed" is Zipf-like with one sample max_len long; "empty" gives 40% of samples no candidates;
# "single" is one sample.
KEVOLVE_CONFIGS = {
    "small": {"batch": 32, "user_dim": 16, "item_dim": 8, "max_len": 12},
    "small_odd": {"batch": 29, "user_dim": 13, "item_dim": 7, "max_len": 11},
    "small_skewed": {"batch": 64, "user_dim": 16, "item_dim": 8, "max_len": 300, "zipf_alpha": 1.4},
    "small_empty": {"batch": 32, "user_dim": 16, "item_dim": 8, "max_len": 12, "empty_frac": 0.4},
    "small_single": {"batch": 1, "user_dim": 16, "item_dim": 8, "min_len": 40, "max_len": 40},
    "odd": {"batch": 8191, "user_dim": 120, "item_dim": 72, "max_len": 263},
    "skewed": {"max_len": 65536, "zipf_alpha": 1.6},
    "empty": {"empty_frac": 0.4},
    "single": {"batch": 1, "min_len": 500000, "max_len": 500000},
}
