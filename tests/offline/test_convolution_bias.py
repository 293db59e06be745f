"""A convolution's bias joins the kernel that reads the convolution's output: cuDNN is called without it, so the
whole output is not read and written once more by ATen's add (measured on an H100: 0.25 ms beside a 0.29 ms
convolution). A convolution returned as it is keeps its bias: there is no kernel for it to join."""

from __future__ import annotations

import torch

from kevolve.tools.offline.configs import default_config
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.regime import EXACT
from kevolve.tools.offline.schedules import Schedule, build
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

BIASED = reference_module("""
    class Model(nn.Module):
        def __init__(self, inputs, outputs):
            super().__init__()
            self.conv = nn.Conv2d(inputs, outputs, 3, padding=1)
            self.up = nn.ConvTranspose2d(outputs, inputs, 2, stride=2)
            self.line = nn.Conv1d(inputs, outputs, 3)

        def forward(self, x, s):
            y = torch.nn.functional.gelu(self.conv(x))
            return torch.tanh(self.up(y)), self.line(s), torch.nn.functional.conv2d(x, self.conv.weight, bias=None)
    """, "[torch.randn(2, 3, 6, 5), torch.randn(2, 3, 9)]", "[3, 4]")


def test_each_biased_convolution_runs_without_its_bias_and_the_bias_is_added_in_a_kernel(tmp_path) -> None:
    fused = fused_program(BIASED)
    source = candidate_source(BIASED, fused, looping=False)
    forward = source.split("def forward")[-1]
    assert forward.count("None, self.") == 2, "conv and conv_transpose each called without their bias"
    assert forward.count(".view(1, -1, 1, 1)") == 2
    # The bias adds join the gelu and tanh kernels. The 1-D convolution's output is returned as it is: no kernel
    # reads it for its bias to join, so cuDNN keeps it.
    assert "conv1d(s, p_line_weight, p_line_bias" in forward
    assert [sorted({m.fn for m in group.members}) for group in fused.groups] == [["add", "gelu"], ["add", "tanh"]]
    reference, candidate = load(BIASED, tmp_path, "biased_reference"), load(source, tmp_path, "biased_candidate")
    assert_same(reference, candidate, [3, 4], [torch.randn(2, 3, 6, 5), torch.randn(2, 3, 9)])
    assert_same(reference, candidate, [3, 4], [torch.randn(1, 3, 9, 7), torch.randn(3, 3, 12)])


POOLED = reference_module("""
    class Model(nn.Module):
        def __init__(self, inputs, outputs):
            super().__init__()
            self.conv = nn.Conv2d(inputs, outputs, 3, padding=1)

        def forward(self, x):
            return F.avg_pool2d(F.gelu(self.conv(x)), 2) * 3.0
    """, "[torch.randn(2, 3, 8, 6)]", "[3, 4]")


def test_the_bias_activation_and_a_tiling_pool_are_one_kernel_after_the_convolution(tmp_path) -> None:
    schedule = Schedule(reshaped_pools=True)
    fused = build(trace_reference(POOLED), "hybrid", schedule)
    assert [[m.fn for m in g.members] for g in fused.groups] == [["add", "gelu", "mean", "mul"]]
    source = module_source(POOLED, fused, {g.name: default_config(g) for g in fused.groups}, "test", EXACT, schedule)
    assert ".expand_as(" in source, "the bias is viewed with the values through a stride-0 expansion, not copied"
    reference, candidate = load(POOLED, tmp_path, "pooled_reference"), load(source, tmp_path, "pooled_candidate")
    for shape in [(2, 3, 8, 6), (1, 3, 7, 9)]:  # the second leaves a row and a column outside every window
        assert_same(reference, candidate, [3, 4], [torch.randn(*shape)])
