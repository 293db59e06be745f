"""Views moved across elementwise steps (and tiling pools written as reductions over a view): the steps on both
sides of a reshape share one kernel, and compute the same."""

import pytest
import torch

from kevolve.tools.offline.configs import default_config
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.regime import EXACT
from kevolve.tools.offline.schedules import PLAIN, Schedule, alternatives, build
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

GROUP_NORM_SILU = reference_module("""
    class Model(nn.Module):
        def __init__(self, features, groups):
            super().__init__()
            self.norm = nn.GroupNorm(groups, features)

        def forward(self, x):
            return F.silu(self.norm(x))
    """, "[torch.randn(64, 32)]", "[32, 4]")
SCALED_GROUP_LOGSUMEXP = reference_module("""
    class Model(nn.Module):
        def __init__(self, group):
            super().__init__()
            self.group = group

        def forward(self, x):
            y = (x * 0.5 + 1.0).view(x.shape[0], -1, self.group)
            return torch.logsumexp(y, dim=-1)
    """, "[torch.randn(64, 32)]", "[8]")
# The scaled values are also returned: moving the view would compute them twice, so they stay one kernel's output.
SCALED_TWICE_READ = reference_module("""
    class Model(nn.Module):
        def forward(self, x):
            y = x * 0.5
            return y, y.view(x.shape[0], -1, 4).amax(dim=-1)
    """, "[torch.randn(64, 32)]")
# Swish written out reads the normalised values twice, through two views of the kernel's outputs.
GROUP_NORM_SWISH = reference_module("""
    class Model(nn.Module):
        def forward(self, x):
            y = F.group_norm(x, 4)
            return y * torch.sigmoid(y)
    """, "[torch.randn(64, 32)]")
# RMSNorm as LLaMA writes it: the casts to the dtype the values already have rename them, and cut nothing.
RMS_NORM_CAST = reference_module("""
    class Model(nn.Module):
        def __init__(self, features):
            super().__init__()
            self.weight = nn.Parameter(torch.rand(features) + 0.5)

        def forward(self, x):
            dtype = x.dtype
            x = x.to(torch.float32)
            x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
            return self.weight * x.to(dtype)
    """, "[torch.randn(64, 32)]", "[32]")


def _biased(view_and_reduce: str) -> str:
    """A per-row bias broadcast over the columns, tanh, then `view_and_reduce` of the result."""
    return reference_module(f"""
    class Model(nn.Module):
        def __init__(self, rows):
            super().__init__()
            self.bias = nn.Parameter(torch.randn(rows, 1))

        def forward(self, x):
            return torch.tanh(x + self.bias[:x.shape[0]]){view_and_reduce}
    """, "[torch.randn(64, 32)]", "[64]")


# Columns grouped: the bias is expanded (no copy) and viewed as the values are, so the add joins the reduction.
BIASED_GROUPS = _biased(".unflatten(1, (-1, 4)).amax(dim=-1)")
# The view merges dims: an expanded operand would be copied out in full, so the view stays where it is.
BIASED_MERGED = _biased(".flatten().view(-1, 16).sum(dim=-1)")
CASES = {"group_norm_silu": (GROUP_NORM_SILU, [32, 4], 1), "scaled_group_logsumexp": (SCALED_GROUP_LOGSUMEXP, [8], 1),
         "scaled_twice_read": (SCALED_TWICE_READ, [], 2), "group_norm_swish": (GROUP_NORM_SWISH, [], 1),
         "rms_norm_cast": (RMS_NORM_CAST, [32], 1), "biased_groups": (BIASED_GROUPS, [64], 1),
         "biased_merged": (BIASED_MERGED, [64], 2)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_view_between_elementwise_steps_and_a_reduction_does_not_cut_the_kernel(case: str, tmp_path) -> None:
    source, init, kernels = CASES[case]
    fused = fused_program(source)
    assert len(fused.groups) == kernels, [[m.fn for m in g.members] for g in fused.groups]
    reference = load(source, tmp_path, f"ref_{case}")
    candidate = load(candidate_source(source, fused, looping=False), tmp_path, f"gen_{case}")
    for rows in (1, 5, 13):
        torch.manual_seed(rows)
        assert_same(reference, candidate, init, [torch.randn(rows, 32)])


TILING_POOLS = reference_module("""
    class Model(nn.Module):
        def __init__(self, pool):
            super().__init__()
            self.pool = pool

        def forward(self, x):
            y = F.avg_pool2d(F.gelu(x), self.pool) * 2.0
            z = F.max_pool3d(torch.relu(x.unsqueeze(1)), (1, 2, 3))
            return y, z
    """, "[torch.randn(2, 3, 17, 19)]", "[4]")
OVERLAPPING_POOL = reference_module("""
    class Model(nn.Module):
        def forward(self, x):
            return F.max_pool2d(torch.relu(x), 3, stride=2)
    """, "[torch.randn(2, 3, 17, 19)]")


def test_pools_whose_windows_tile_their_input_are_offered_as_reductions_with_their_activation_fused(tmp_path) -> None:
    schedule = Schedule(reshaped_pools=True)
    traced = trace_reference(TILING_POOLS)
    assert schedule in alternatives(traced, "hybrid", build(traced, "hybrid", PLAIN), sm_count=132)
    fused = build(traced, "hybrid", schedule)
    assert [[m.fn for m in g.members] for g in fused.groups] == [["gelu", "mean", "mul"], ["relu", "amax"]]
    reference = load(TILING_POOLS, tmp_path, "ref_tiling_pools")
    configs = {g.name: default_config(g) for g in fused.groups}
    candidate = load(module_source(TILING_POOLS, fused, configs, "test", EXACT, schedule), tmp_path, "gen_pools")
    for shape in [(2, 3, 17, 19), (1, 2, 4, 7), (3, 1, 9, 12)]:  # a remainder cut off, none, one window row
        torch.manual_seed(sum(shape))
        assert_same(reference, candidate, [4], [torch.randn(*shape)])


def test_an_activation_between_a_norm_and_a_pool_joins_the_norms_kernel(tmp_path) -> None:
    # Batch norm is computed over (N, C, H * W) and viewed back: the GELU sinks through that view into the norm's
    # kernel, since the pool's window reads whatever wrote its operand from memory.
    reference_source = reference_module("""
        class Model(nn.Module):
            def __init__(self, channels):
                super().__init__()
                self.norm = nn.BatchNorm2d(channels)

            def forward(self, x):
                return F.max_pool2d(F.gelu(self.norm(x)), 3, stride=2)
        """, "[torch.randn(4, 5, 13, 11)]", "[5]")
    fused = build(trace_reference(reference_source), "hybrid", PLAIN)
    assert [[m.fn for m in g.members if m.kind != "pointwise" or m.fn == "gelu"] for g in fused.groups] == \
        [["mean", "mean", "gelu"], ["window_max", "amax"]]
    reference = load(reference_source, tmp_path, "ref_norm_gelu_pool")
    candidate = load(module_source(reference_source, fused, {g.name: default_config(g) for g in fused.groups},
                                   "test", EXACT, PLAIN), tmp_path, "gen_norm_gelu_pool")
    torch.manual_seed(0)
    assert_same(reference, candidate, [5], [torch.randn(4, 5, 13, 11)])


def test_an_overlapping_pool_keeps_its_window_kernel() -> None:
    traced = trace_reference(OVERLAPPING_POOL)
    assert all(not s.reshaped_pools for s in alternatives(traced, "hybrid", build(traced, "hybrid", PLAIN), 132))
