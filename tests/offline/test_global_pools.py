"""Adaptive pooling: to one element per spatial dim a mean or a max over those dims, fused with its neighbours; to
other sizes windows of each output's own bounds, which overlap and differ in size where the output size does not
divide the input's, with the output sizes read at run time."""

import pytest
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
        def __init__(self, size):
            super().__init__()
            self.size = size

        def forward(self, x):
            pooled = F.adaptive_avg_pool2d(torch.relu(x), self.size)
            return pooled * 2.0, F.adaptive_max_pool2d(x, (2, 3)), F.adaptive_avg_pool1d(x.flatten(2), 4)
    """, "[torch.randn(2, 3, 5, 7)]", "[(3, 4)]")
VOLUME = reference_module("""
    class Model(nn.Module):
        def forward(self, x):
            return F.adaptive_avg_pool3d(x, (2, 3, 1)), F.adaptive_max_pool3d(x, 2)
    """, "[torch.randn(1, 2, 5, 4, 3)]")


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


@pytest.mark.parametrize("looping", [False, True])
def test_adaptive_pools_to_larger_outputs_read_each_outputs_window(looping: bool, tmp_path) -> None:
    fused = fused_program(LARGER)
    assert any({"window_adaptive_sum", "div", "mul"} <= {m.fn for m in g.members} for g in fused.groups)
    assert not fused.program.baked
    reference = load(LARGER, tmp_path, "ref_adaptive")
    candidate = load(candidate_source(LARGER, fused, looping=looping), tmp_path, f"gen_adaptive_{looping}")
    # Output sizes that divide the input's, that do not, larger than it, and a size-one input.
    for size, shape in [((3, 4), (2, 3, 5, 7)), ((5, 7), (2, 3, 5, 7)), ((4, 2), (1, 2, 9, 13)),
                        ((6, 5), (2, 1, 3, 2)), ((1, 3), (1, 1, 1, 1))]:
        torch.manual_seed(sum(shape))
        assert_same(reference, candidate, [size], [torch.randn(*shape)])


def test_three_dimensional_adaptive_pools_match_pytorch(tmp_path) -> None:
    reference = load(VOLUME, tmp_path, "ref_adaptive_volume")
    candidate = load(candidate_source(VOLUME, fused_program(VOLUME), looping=False), tmp_path, "gen_adaptive_volume")
    for shape in [(1, 2, 5, 4, 3), (2, 3, 7, 2, 9)]:
        torch.manual_seed(sum(shape))
        assert_same(reference, candidate, [], [torch.randn(*shape)])


def test_adaptive_pools_to_an_input_sized_dim_are_declined_by_name() -> None:
    source = reference_module("""
        class Model(nn.Module):
            def forward(self, x):
                return F.adaptive_avg_pool2d(x, (None, 2))
        """, "[torch.randn(2, 3, 5, 7)]")
    assert any("adaptive_avg_pool2d" in reason for reason in lower(trace_reference(source)).unsupported)
