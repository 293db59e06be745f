"""Factories sized by traced values (`torch.ones(n, n)`), math on sizes, and `triu`/`tril` computed from indices: a
causal mask is never written, and the masked softmax is one kernel."""

import torch

from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

MASKED = reference_module("""
    class Model(nn.Module):
        def forward(self, scores, bias):
            n = scores.shape[-1]
            future = torch.ones(scores.shape[-2], n, dtype=torch.bool, device=scores.device).triu(diagonal=1)
            scaled = scores * (1.0 / math.sqrt(n))
            weights = torch.softmax(scaled.masked_fill(future, float("-inf")), dim=-1)
            lower = torch.tril(bias, diagonal=-1) + torch.zeros(bias.shape[0], n, device=bias.device)
            return weights, lower
    """, "[torch.randn(2, 3, 8, 8), torch.randn(8, 8)]")


def test_a_causal_mask_and_a_lower_triangle_are_computed_where_they_are_read(tmp_path) -> None:
    source = "import math\n" + MASKED
    fused = fused_program(source)
    assert [g.kind for g in fused.groups] == ["reduction", "pointwise"]
    reference = load(source, tmp_path, "ref_masked")
    candidate = load(candidate_source(source, fused, looping=False), tmp_path, "gen_masked")
    for rows, cols in [(8, 8), (5, 9), (1, 3)]:  # square, wider than tall (rows past the diagonal), one row
        torch.manual_seed(rows)
        assert_same(reference, candidate, [], [torch.randn(2, 3, rows, cols), torch.randn(rows, cols)])
