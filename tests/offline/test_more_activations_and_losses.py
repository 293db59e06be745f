"""SELU, CELU, the shrinks, threshold, GLU and PReLU, and the Huber and binary cross-entropy losses: each generated
kernel gives PyTorch's values, at the edges of their branches too; independent elementwise steps of one shape share
a kernel."""

from __future__ import annotations

import torch

from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

ACTIVATIONS = reference_module("""
    class Model(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.prelu = nn.PReLU(channels)
            self.glu = nn.GLU(dim=1)
            self.threshold, self.selu = nn.Threshold(0.1, 20.0), nn.SELU()

        def forward(self, x):
            shrunk = F.hardshrink(x, 0.5) + F.softshrink(x, 0.25) + F.tanhshrink(x)
            return (F.selu(x) + F.celu(x, 0.7), shrunk, F.threshold(x, 0.5, -2.0), self.glu(x), self.prelu(x),
                    self.threshold(x) * self.selu(x))
    """, "[torch.randn(3, 4, 5)]", "[4]")
LOSSES = reference_module("""
    class Model(nn.Module):
        def forward(self, p, t, probability):
            return (F.huber_loss(p, t, delta=0.5), F.huber_loss(p, t, reduction="sum"),
                    F.binary_cross_entropy(probability, t.sigmoid()),
                    F.binary_cross_entropy_with_logits(p * 30.0, t.sigmoid(), reduction="none"))
    """, "[torch.randn(6, 7), torch.randn(6, 7), torch.rand(6, 7)]")


def test_activations_at_and_around_their_branch_points(tmp_path) -> None:
    reference = load(ACTIVATIONS, tmp_path, "ref_more_activations")
    for looping in (False, True):
        candidate = load(candidate_source(ACTIVATIONS, fused_program(ACTIVATIONS), looping=looping), tmp_path,
                         f"gen_more_activations_{looping}")
        x = torch.randn(3, 4, 5)
        x[0, 0, :5] = torch.tensor([0.5, -0.5, 0.25, -0.25, 0.1])  # exactly at the shrinks' and thresholds' edges
        assert_same(reference, candidate, [4], [x])
        assert_same(reference, candidate, [4], [torch.randn(1, 4, 1)])


def test_losses_with_probabilities_of_zero_and_one_and_large_logits(tmp_path) -> None:
    reference = load(LOSSES, tmp_path, "ref_more_losses")
    candidate = load(candidate_source(LOSSES, fused_program(LOSSES), looping=False), tmp_path, "gen_more_losses")
    probability = torch.rand(6, 7)
    probability[0, :2] = torch.tensor([0.0, 1.0])  # PyTorch clamps each log at -100
    assert_same(reference, candidate, [], [torch.randn(6, 7), torch.randn(6, 7), probability])


def test_independent_elementwise_steps_of_one_shape_are_one_kernel() -> None:
    source = reference_module("""
        class Model(nn.Module):
            def forward(self, x, y):
                return torch.relu(x) + torch.sigmoid(y), torch.tanh(x)
        """, "[torch.randn(4, 8), torch.randn(4, 8)]")
    assert len(fused_program(source).groups) == 1
