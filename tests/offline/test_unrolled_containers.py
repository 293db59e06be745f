"""A loop over an nn.ModuleList is unrolled by tracing: the generated module computes the traced model's layers
and refuses, by name, a model built with another number of them."""

from __future__ import annotations

import pytest
import torch

from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

STACKED = reference_module("""
    class Model(nn.Module):
        def __init__(self, width, depth):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
            self.tail = nn.Sequential(nn.ReLU(), nn.Linear(width, 4))

        def forward(self, x):
            for layer in self.layers:
                x = torch.tanh(layer(x)) + x
            return self.tail(x)
    """, "[torch.randn(5, 12)]", "[12, 3]")


def test_the_traced_depth_is_computed_and_another_is_refused(tmp_path) -> None:
    fused = fused_program(STACKED)
    assert fused.program.unrolled == {"layers": 3, "tail": 2}
    assert "len(self.layers) = 3 (its loop unrolled)" in fused.program.baked
    reference = load(STACKED, tmp_path, "stacked_reference")
    candidate = load(candidate_source(STACKED, fused, looping=False), tmp_path, "stacked_candidate")
    assert_same(reference, candidate, [12, 3], [torch.randn(7, 12)])
    with pytest.raises(ValueError, match=r"3 modules in self\.layers, unrolled; this model has 2"):
        candidate.ModelNew(12, 2)(torch.randn(7, 12))
