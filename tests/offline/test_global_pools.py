"""Adaptive pooling to one element per spatial dim is a mean or a max over those dims, fused with its neighbours;
other output sizes are declined by name."""

import torch

from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

GLOBAL = reference_module("""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = nn.AdaptiveAvgPool2d(1)

        def forward(self, x):
            pooled = self.pool(torch.relu(x)) + F.adaptive_max_pool2d(x, (1, 1))
            return torch.sigmoid(pooled), F.adaptive_avg_pool1d(x.flatten(2), 1)
    """, "[torch.randn(2, 3, 5, 7)]")
LARGER = reference_module("""
    class Model(nn.Module):
        def forward(self, x):
            return F.adaptive_avg_pool2d(x, (2, 3))
    """, "[torch.randn(2, 3, 5, 7)]")


def test_global_pools_are_reductions_with_their_neighbours(tmp_path) -> None:
    fused = fused_program(GLOBAL)
    assert all(g.kind == "reduction" for g in fused.groups)
    assert any({"relu", "mean"} <= {m.fn for m in g.members} for g in fused.groups)
    assert any("pool.output_size" in baked for baked in fused.program.baked)
    reference = load(GLOBAL, tmp_path, "ref_global")
    candidate = load(candidate_source(GLOBAL, fused, looping=False), tmp_path, "gen_global")
    for shape in [(2, 3, 5, 7), (1, 1, 1, 1), (3, 2, 9, 2)]:
        torch.manual_seed(sum(shape))
        assert_same(reference, candidate, [], [torch.randn(*shape)])


def test_adaptive_pools_to_larger_outputs_are_declined_by_name() -> None:
    assert any("adaptive_avg_pool2d" in reason for reason in lower(trace_reference(LARGER)).unsupported)
