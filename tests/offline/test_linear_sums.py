"""A sum over a linear layer's outputs is taken through its weight (the `linear_sums` schedule): no GEMM is left,
and the result is PyTorch's within the regime's tolerance, under both policies."""

from __future__ import annotations

import pytest
import torch

from kevolve.tools.offline.configs import default_config
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.regime import EXACT
from kevolve.tools.offline.schedules import PLAIN, Schedule, alternatives, build
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, load, reference_module

SUMS = Schedule(linear_sums=True)
# A projection, halved, summed over its outputs and scaled; a second one without bias, averaged. `strict` writes
# 2-D GEMMs only, so there the tokens are 2-D.
SOURCE = """
    class Model(nn.Module):
        def __init__(self, features, outputs, scale):
            super().__init__()
            self.fc = nn.Linear(features, outputs)
            self.weight = nn.Parameter(torch.randn(features, outputs))
            self.scale = scale

        def forward(self, x, tokens):
            y = self.fc(x) / 2.0
            total = torch.sum(y, dim=1, keepdim=True) * self.scale
            mean = torch.matmul(tokens, self.weight).mean(dim=-1)
            return total, -mean
    """
TOKENS = {"hybrid": (3,), "strict": ()}
# The product is also returned: it must be computed anyway, so nothing is offered.
ALSO_RETURNED = reference_module("""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 6)

        def forward(self, x):
            y = self.fc(x)
            return y, y.sum(dim=1)
    """, "[torch.randn(4, 8)]")
# A sum over the rows (not the outputs) is not a sum through the weight.
OVER_ROWS = reference_module("""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 6)

        def forward(self, x):
            return torch.relu(self.fc(x)).sum(dim=1) + self.fc(x).sum(dim=0).sum()
    """, "[torch.randn(4, 8)]")


@pytest.mark.parametrize("policy", ["hybrid", "strict"])
def test_no_gemm_is_left_and_the_sums_are_pytorchs(policy: str, tmp_path) -> None:
    tokens = TOKENS[policy]
    reference_source = reference_module(SOURCE, f"[torch.randn(16, 24), torch.randn(*{(*tokens, 5, 24)})]",
                                        "[24, 40, 1.5]")
    traced = trace_reference(reference_source)
    assert SUMS in alternatives(traced, policy, build(traced, policy, PLAIN), 132)
    fused = build(traced, policy, SUMS)
    assert not fused.program.vendor_calls and not any(g.gemm() for g in fused.groups)
    reference = load(reference_source, tmp_path, f"ref_linear_sums_{policy}")
    candidate = load(module_source(reference_source, fused, {g.name: default_config(g) for g in fused.groups},
                                   "test", EXACT, SUMS), tmp_path, f"gen_linear_sums_{policy}")
    for rows, features, outputs in [(16, 24, 40), (1, 3, 1), (7, 33, 17)]:
        torch.manual_seed(rows)
        inputs = [torch.randn(rows, features), torch.randn(*tokens, rows, features)]
        assert_same(reference, candidate, [features, outputs, 1.5], inputs)


@pytest.mark.parametrize("reference", [ALSO_RETURNED, OVER_ROWS], ids=["also_returned", "over_rows"])
def test_not_offered_where_the_product_is_needed_or_the_sum_is_not_over_its_outputs(reference: str) -> None:
    traced = trace_reference(reference)
    assert Schedule(linear_sums=True) not in alternatives(traced, "hybrid", build(traced, "hybrid", PLAIN), 132)
