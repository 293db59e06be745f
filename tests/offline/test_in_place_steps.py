"""In-place steps whose result is not assigned (`y.mul_(s); return y`, `F.silu(h, inplace=True)`, an
`nn.ReLU(inplace=True)` called for its effect, `out.index_add_(...)`, `h += 1` where another name holds h): the
generated module computes what the
reference returns, in the interpreter. Updates that would reach a view's base or a parameter are declined by name."""

from __future__ import annotations

import pytest
import torch

from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.tracing import TraceFailed, trace_reference
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

_INPUTS = "[torch.randn(6, 40), torch.randint(0, 6, (9,)), torch.randn(9, 40)]"
UPDATED_IN_PLACE = reference_module("""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.ReLU(inplace=True)
            self.drop = nn.Dropout(0.3)
            self.eval()

        def forward(self, x, ids, rows):
            y = F.layer_norm(x, x.shape[-1:])
            y.mul_(torch.sigmoid(y))           # swish, in place, the result thrown away
            y.add_(1.0).clamp_(-0.5, 2.0)      # a chain of updates
            F.silu(y, inplace=True)
            torch.sigmoid_(y)
            h = x * 3.0
            self.act(h)                        # a module's in-place effect
            out = torch.zeros_like(x)
            out.index_add_(0, ids, rows)
            skip = h
            h += 1.0                           # `+=` updates the tensor `skip` names too
            n = x.shape[0]
            n += 1                             # on an int it is a new value
            return self.drop(y) + h * skip, out.view(n - 1, -1)
    """, _INPUTS)


def test_later_reads_see_the_update(tmp_path) -> None:
    fused = fused_program(UPDATED_IN_PLACE)
    operations = [step.fn for group in fused.groups for step in group.members]
    assert {"sigmoid", "clamp", "silu", "relu"} <= set(operations)
    reference = load(UPDATED_IN_PLACE, tmp_path, "in_place_reference")
    candidate = load(candidate_source(UPDATED_IN_PLACE, fused, looping=False), tmp_path, "in_place_candidate")
    for rows in (6, 11):
        assert_same(reference, candidate, [], [torch.randn(rows, 40), torch.randint(0, rows, (9,)),
                                                torch.randn(9, 40)])


@pytest.mark.parametrize(("body", "why"), [
    ("""
    class Model(nn.Module):
        def forward(self, x, ids, rows):
            y = x * 2.0
            flat = y.view(-1)
            flat.add_(1.0)
            return y
    """, "shares memory with another read after it"),
    ("""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(40))

        def forward(self, x, ids, rows):
            self.scale.mul_(0.5)
            return x * self.scale
    """, "changes a parameter or buffer"),
])
def test_updates_that_reach_past_their_tensor_are_declined(body: str, why: str) -> None:
    with pytest.raises(TraceFailed, match=why):
        lower(trace_reference(reference_module(body, _INPUTS)))
