"""Pools whose windows overlap compute their elementwise producers at every tap (the `tap_producers` schedule): the
producer's output is never written, and the pool gives PyTorch's values, padding and NaN included."""

from __future__ import annotations

import pytest
import torch

from kevolve.eval_harness.precision import Precision, resolve
from kevolve.hardware_specs import load_spec
from kevolve.tools.offline.configs import default_configs
from kevolve.tools.offline.cost_model import predict_seconds
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.regime import EXACT
from kevolve.tools.offline.schedules import PLAIN, Schedule, alternatives, build
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import LOOPING, assert_same, load, reference_module

H100 = load_spec("h100_sxm")
TAPS = Schedule(tap_producers=True)
# A biased convolution's activation max-pooled 3/2 with padding, and another activation of it average-pooled
# without counting the padding: overlapping windows, which the reshaped form cannot take.
CONV_POOLS = reference_module("""
    class Model(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv = nn.Conv2d(3, channels, 3)
            self.shift = nn.Parameter(torch.randn(channels, 1, 1))

        def forward(self, x):
            y = self.conv(x)
            top = F.max_pool2d(torch.relu(y + self.shift) * 2.0, 3, stride=2, padding=1)
            mean = F.avg_pool2d(torch.tanh(y), 3, stride=2, padding=1, count_include_pad=False)
            return top, mean
    """, "[torch.randn(2, 3, 17, 19)]", "[4]")
# A normalisation written out: its statistics are reductions that stay in their kernel; the normalisation and the
# activation move to the pool's taps, recomputed there though the variance also reads the centred values.
NORM_POOL = reference_module("""
    class Model(nn.Module):
        def forward(self, x):
            centred = x - x.mean(dim=(0, 2, 3), keepdim=True)
            scale = torch.rsqrt((centred * centred).mean(dim=(0, 2, 3), keepdim=True) + 1e-5)
            return F.max_pool2d(F.gelu(centred * scale), 3, stride=2)
    """, "[torch.randn(4, 5, 13, 11)]")
POOLS_1D_3D = reference_module("""
    class Model(nn.Module):
        def forward(self, x, v):
            return F.avg_pool1d(torch.sigmoid(x) - 0.5, 4, stride=1, padding=2), F.max_pool3d(v * v + 1.0, 3, 2, 1)
    """, "[torch.randn(3, 4, 21), torch.randn(2, 3, 7, 9, 8)]")
# The activation is also returned: it is written either way, so recomputing it at the taps saves nothing.
ALSO_RETURNED = reference_module("""
    class Model(nn.Module):
        def forward(self, x):
            y = torch.relu(x)
            return y, F.max_pool2d(y, 3, stride=2)
    """, "[torch.randn(2, 3, 17, 19)]")


def _candidate(reference: str, tmp_path, name: str, *, looping: bool = False, schedule: Schedule = TAPS):
    traced = trace_reference(reference)
    fused = build(traced, "hybrid", schedule)
    configs = default_configs(fused.groups, False, H100.sm_count)
    if looping:
        configs = {group: LOOPING for group in configs}
    return fused, load(module_source(reference, fused, configs, "test", EXACT, schedule), tmp_path, name)


def test_an_overlapping_pool_is_offered_its_producers_at_the_taps_and_drops_their_kernel() -> None:
    traced = trace_reference(CONV_POOLS)
    plain = build(traced, "hybrid", PLAIN)
    offered = alternatives(traced, "hybrid", plain, H100.sm_count)
    assert TAPS in offered and Schedule(tap_producers=True, channels_last=True) in offered
    taps = offered[TAPS]
    assert len(taps.groups) == 2 < len(plain.groups)
    # Each pool's kernel loads the convolution and the broadcast shift at the taps, and writes only the pool.
    assert [g.outputs for g in taps.groups] == [["max_pool2d"], ["avg_pool2d"]]
    assert len(taps.groups[0].windowed()) == 3


@pytest.mark.parametrize("looping", [False, True])
def test_producers_at_the_taps_give_pytorchs_pools(looping: bool, tmp_path) -> None:
    _, candidate = _candidate(CONV_POOLS, tmp_path, f"gen_conv_pools_{looping}", looping=looping)
    reference = load(CONV_POOLS, tmp_path, "ref_conv_pools")
    # Sizes that no block divides, a window row alone, and outputs of one element.
    for shape in [(2, 3, 17, 19), (1, 3, 5, 4), (3, 3, 3, 3)]:
        torch.manual_seed(sum(shape))
        assert_same(reference, candidate, [4], [torch.randn(*shape)])


def test_a_norms_statistics_stay_in_their_kernel_and_its_normalisation_moves_to_the_taps(tmp_path) -> None:
    fused, candidate = _candidate(NORM_POOL, tmp_path, "gen_norm_pool")
    statistics, pool = fused.groups
    assert all(o in {m.name for m in statistics.members if m.kind == "reduce"} for o in statistics.outputs)
    assert pool.outputs == ["max_pool2d"]
    reference = load(NORM_POOL, tmp_path, "ref_norm_pool")
    for shape in [(4, 5, 13, 11), (2, 5, 3, 7)]:
        torch.manual_seed(sum(shape))
        assert_same(reference, candidate, [], [torch.randn(*shape)])


def test_one_and_three_dimensional_pools_with_padding_counted(tmp_path) -> None:
    _, candidate = _candidate(POOLS_1D_3D, tmp_path, "gen_pools_1d_3d")
    reference = load(POOLS_1D_3D, tmp_path, "ref_pools_1d_3d")
    torch.manual_seed(0)
    assert_same(reference, candidate, [], [torch.randn(3, 4, 21), torch.randn(2, 3, 7, 9, 8)])
    assert_same(reference, candidate, [], [torch.randn(1, 1, 2), torch.randn(1, 2, 3, 2, 5)])


def test_a_nan_at_a_tap_reaches_the_max_as_in_pytorch(tmp_path) -> None:
    _, candidate = _candidate(CONV_POOLS, tmp_path, "gen_conv_pools_nan")
    reference = load(CONV_POOLS, tmp_path, "ref_conv_pools_nan")
    x = torch.randn(2, 3, 17, 19)
    x[1, 2, 8, 8] = float("nan")
    torch.manual_seed(0)
    want = reference.Model(4)(x)
    torch.manual_seed(0)
    got = candidate.ModelNew(4)(x)
    for expected, actual in zip(want, got, strict=True):
        assert expected.isnan().any()
        torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4, equal_nan=True)


def test_a_half_precision_producer_is_rounded_as_it_would_have_been_stored(tmp_path) -> None:
    mode = resolve(Precision.BF16)
    traced = trace_reference(CONV_POOLS, dtype=mode.dtype)
    fused = build(traced, "hybrid", TAPS)
    assert any(m.fn == "round_to_bfloat16" for g in fused.groups for m in g.members)
    source = module_source(CONV_POOLS, fused, default_configs(fused.groups, False, H100.sm_count), "test", mode, TAPS)
    candidate = load(source, tmp_path, "gen_conv_pools_bf16")
    reference = load(CONV_POOLS, tmp_path, "ref_conv_pools_bf16")
    assert_same(reference, candidate, [4], [torch.randn(2, 3, 9, 10)], tol=2e-2, dtype=torch.bfloat16)


def test_not_offered_where_the_producer_is_written_anyway() -> None:
    traced = trace_reference(ALSO_RETURNED)
    assert not any(s.tap_producers for s in alternatives(traced, "hybrid", build(traced, "hybrid", PLAIN), 132))


def test_the_cost_model_ranks_the_taps_first_at_a_gpus_size() -> None:
    traced = trace_reference(CONV_POOLS.replace("torch.randn(2, 3, 17, 19)", "torch.randn(64, 3, 128, 128)"))
    plain, taps = build(traced, "hybrid", PLAIN), build(traced, "hybrid", TAPS)
    seconds = [predict_seconds(f, default_configs(f.groups, False, H100.sm_count), EXACT, H100) for f in (plain, taps)]
    assert seconds[1] < seconds[0]
