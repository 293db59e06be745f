import torch
import torch.nn as nn


class Model(nn.Module):
    """Message aggregation of a graph-based recommender (GraphSAGE mean over a user-item graph): edge e carries
    node src[e]'s feature row scaled by its weight w[e] to node dst[e]; each node's result is the sum of its
    incoming messages (index_add of rows by destination id) divided by its in-degree, [num_nodes, dim]. Nodes with
    no incoming edge get zeros. Edges come in no particular order."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        messages = x.index_select(0, src) * w.unsqueeze(1)
        summed = torch.zeros_like(x).index_add_(0, dst, messages)
        degree = torch.bincount(dst, minlength=x.shape[0]).clamp(min=1).to(x.dtype)
        return summed / degree.unsqueeze(1)


num_nodes = 500000
dim = 64
min_deg = 0
max_deg = 16
zipf_alpha = 0.0
empty_frac = 0.0


def _degrees():
    """In-degree per node in [0, max_deg]: uniform over [min_deg, max_deg], or, with zipf_alpha > 0, power-law
    (P(deg = k) ~ k^-zipf_alpha, as item popularity is) with one hub node exactly max_deg; then about
    `empty_frac` of the other nodes get no incoming edge."""
    u = torch.rand(num_nodes, dtype=torch.float64, device="cpu")
    if zipf_alpha > 0:
        top = float(max_deg + 1)
        if zipf_alpha == 1.0:
            draw = top**u
        else:
            draw = (1.0 + u * (top ** (1.0 - zipf_alpha) - 1.0)) ** (1.0 / (1.0 - zipf_alpha))
        degrees = draw.floor().long().clamp(1, max_deg)
    else:
        degrees = min_deg + (u * (max_deg - min_deg + 1)).long().clamp(max=max_deg - min_deg)
    degrees[torch.rand(num_nodes, device="cpu") < empty_frac] = 0
    if zipf_alpha > 0:
        degrees[int(torch.randint(0, num_nodes, (1,), device="cpu"))] = max_deg
    return degrees


def get_inputs():
    degrees = _degrees()
    dst = torch.repeat_interleave(torch.arange(num_nodes, device="cpu"), degrees)
    dst = dst[torch.randperm(dst.shape[0], device="cpu")]
    src = torch.randint(0, num_nodes, (dst.shape[0],), device="cpu")
    x = torch.randn(num_nodes, dim, device="cpu")
    return [x, src, dst, torch.rand(dst.shape[0], device="cpu")]


def get_init_inputs():
    return []


KEVOLVE_CATEGORY = "recsys"
# In-degrees: "skewed" is power-law with one hub receiving max_deg edges; "empty" leaves 60% of the nodes with
# no incoming edge; "single" sends every edge to one node.
KEVOLVE_CONFIGS = {
    "small": {"num_nodes": 64, "dim": 16, "max_deg": 6},
    "small_odd": {"num_nodes": 61, "dim": 13, "max_deg": 7},
    "small_skewed": {"num_nodes": 128, "dim": 8, "max_deg": 400, "zipf_alpha": 1.5},
    "small_empty": {"num_nodes": 64, "dim": 16, "max_deg": 6, "empty_frac": 0.6},
    "small_single": {"num_nodes": 1, "dim": 16, "min_deg": 50, "max_deg": 50},
    "odd": {"num_nodes": 499979, "dim": 72, "max_deg": 17},
    "skewed": {"max_deg": 500000, "zipf_alpha": 2.1},
    "empty": {"empty_frac": 0.6, "max_deg": 32},
    "single": {"num_nodes": 1, "min_deg": 1000000, "max_deg": 1000000},
}
