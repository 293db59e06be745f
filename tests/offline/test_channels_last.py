"""Channels-last convolutions: a schedule the search may pick under hybrid, in which cuDNN reads its input and
weight channels-last and the epilogue kernels read its output through its strides, with no conversion back."""

from __future__ import annotations

import textwrap

import pytest
import torch

from kevolve.eval_harness.precision import Precision, resolve
from kevolve.hardware_specs import load_spec
from kevolve.tools.offline.configs import default_config
from kevolve.tools.offline.engine import OfflineEngine
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.schedules import Schedule, alternatives, build, read_schedule
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, load

REFERENCE = textwrap.dedent("""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Model(nn.Module):
        def __init__(self, inputs, outputs):
            super().__init__()
            self.conv = nn.Conv2d(inputs, outputs, 3, padding=1, bias=False)
            self.volume = nn.Conv3d(inputs, outputs, 2)
            self.scale = nn.Parameter(torch.randn(outputs, 1, 1))
            self.register_buffer("mean", 0.2 * torch.randn(outputs))
            self.register_buffer("var", 0.5 + torch.rand(outputs))

        def forward(self, x, z):
            y = self.conv(x)
            normed = F.batch_norm(y, self.mean, self.var, self.scale.view(-1), None, training=False, eps=1e-5)
            return (torch.relu(y * self.scale + 0.5), torch.softmax(y, dim=1), torch.relu(normed),
                    F.gelu(self.volume(z)))


    def get_inputs():
        return [torch.randn(2, 3, 6, 5), torch.randn(1, 3, 4, 5, 6)]


    def get_init_inputs():
        return [3, 4]
    """)
CHANNELS_LAST = Schedule(channels_last=True)
H100_SMS = load_spec("h100_sxm").sm_count


@pytest.mark.parametrize("regime", ["default", "bf16"])
def test_channels_last_convolutions_feed_their_epilogues_without_a_conversion(regime: str, tmp_path) -> None:
    mode = resolve(Precision(regime))
    traced = trace_reference(REFERENCE, dtype=mode.dtype)
    fused = alternatives(traced, "hybrid", build(traced, "hybrid", Schedule()), H100_SMS)[CHANNELS_LAST]
    source = module_source(REFERENCE, fused, {g.name: default_config(g) for g in fused.groups}, "test", mode,
                           CHANNELS_LAST)
    assert source.count("memory_format=torch.channels_last)") == 2
    assert source.count("memory_format=torch.channels_last_3d)") == 2
    assert ".contiguous()" not in source  # the epilogues read the layout cuDNN wrote
    dtype = getattr(torch, mode.dtype.value)
    reference = load(REFERENCE, tmp_path, f"ref_channels_last_{regime}")
    candidate = load(source, tmp_path, f"gen_channels_last_{regime}")
    torch.manual_seed(0)
    inputs = [torch.randn(2, 3, 7, 5), torch.randn(1, 3, 4, 6, 5)]
    assert_same(reference, candidate, [3, 4], inputs, tol=5e-2 if regime == "bf16" else 1e-4, dtype=dtype)
    # The elementwise epilogue wrote its output in the convolution's layout, walking it contiguously.
    dtype = getattr(torch, mode.dtype.value)
    with torch.no_grad():
        relu = candidate.ModelNew(3, 4).to(dtype)(*[t.to(dtype) for t in inputs])[0]
    assert relu.is_contiguous(memory_format=torch.channels_last)


def test_the_search_offers_channels_last_only_under_hybrid_where_a_convolution_is_left_to_cudnn() -> None:
    engine = OfflineEngine()
    assert engine.design(REFERENCE, "hybrid").alternatives == [CHANNELS_LAST.label]
    drafts = [engine.propose(REFERENCE, "hybrid", [], set()) for _ in range(2)]
    assert {read_schedule(draft.source) for draft in drafts} == {Schedule(), CHANNELS_LAST}
    without = REFERENCE.replace("self.conv(x)", "x * 2.0").replace("F.gelu(self.volume(z))", "z")
    assert engine.design(without, "hybrid").alternatives == []


def test_a_batch_norm_with_running_statistics_and_its_relu_are_one_pass_over_the_tensor() -> None:
    traced = trace_reference(REFERENCE)
    passes = [[m.fn for m in g.members] for g in build(traced, "hybrid", Schedule()).groups
              if "relu" in [m.fn for m in g.members] and "sub" in [m.fn for m in g.members]]
    # The per-channel rsqrt(var + eps) is recomputed in that pass, not a tiny kernel of its own; the other ReLU of
    # the convolution's output shares the pass, so y is read once for both.
    assert passes == [["sub", "add", "rsqrt", "mul", "mul", "mul", "add", "relu", "relu"]]
