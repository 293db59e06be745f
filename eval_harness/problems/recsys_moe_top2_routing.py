import torch
import torch.nn as nn


class Model(nn.Module):
    """Mixture-of-experts routing (MMoE / sparse-MoE gate) from gate logits ([tokens, num_experts]): softmax gives
    each token's routing probabilities, the top `k` experts are chosen, their probabilities are gathered and
    renormalised to sum to 1. Returns (weights [tokens, k] in the logits' dtype, expert ids [tokens, k] int64),
    both ordered by decreasing probability."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probs = torch.softmax(logits, dim=-1)
        ids = torch.topk(probs, self.k, dim=-1).indices
        weights = torch.gather(probs, 1, ids)
        return weights / weights.sum(-1, keepdim=True), ids


tokens = 1048576
num_experts = 64
k = 2
skew = 0.0


def get_inputs():
    """Gaussian logits minus skew * log(1 + e) for expert e (with skew > 0 a Zipf-like popularity: expert 0 is the
    hottest and low-numbered experts take most tokens); then the token's r-th best expert (r = 0 .. k - 1) gains 0.5 * (k - r), so the chosen experts and
    their order are unambiguous under rounding."""
    popularity = -torch.arange(1, num_experts + 1, dtype=torch.float32, device="cpu").log()
    logits = torch.randn(tokens, num_experts, device="cpu") + skew * popularity
    top = torch.topk(logits, k, dim=1).indices
    margin = 0.5 * torch.arange(k, 0, -1, dtype=torch.float32, device="cpu").expand(tokens, k)
    return [logits.scatter_add(1, top, margin)]


def get_init_inputs():
    return [k]


KEVOLVE_CATEGORY = "recsys"
# No jagged structure: "skewed" makes a few experts win most tokens, "single" is one token, "few_experts" an
# MMoE-sized gate (8 experts), "top1" k = 1.
KEVOLVE_CONFIGS = {
    "small": {"tokens": 64, "num_experts": 8},
    "small_odd": {"tokens": 37, "num_experts": 7},
    "small_skewed": {"tokens": 256, "num_experts": 16, "skew": 1.5},
    "small_single": {"tokens": 1, "num_experts": 8},
    "odd": {"tokens": 1048573, "num_experts": 61},
    "skewed": {"skew": 1.5},
    "single": {"tokens": 1},
    "few_experts": {"tokens": 4194304, "num_experts": 8},
    "top1": {"k": 1},
}
