"""repeat_interleave and padded-to-jagged masks against PyTorch, on lengths the trace never saw, in the interpreter.

Each reference is traced once (its inputs need values, so on real CPU tensors); its generated module then runs on
fresh lengths: empty segments, no rows at all, a single segment, one long segment among many short ones, and (for
masks) lengths past the padded width. A row's segment is searched in the kernel that reads it, so these also check
that nothing but the segment ends is written between the lengths and the result.
"""

from __future__ import annotations

import textwrap

import pytest
import torch

from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, candidate_source, fused_program, load

HEADER = "import torch\nimport torch.nn as nn\n\n"


def _reference(forward: str, inputs: str) -> str:
    body = textwrap.indent(textwrap.dedent(forward).strip(), " " * 8)
    return HEADER + "class Model(nn.Module):\n    def forward(self, x, lengths):\n" + body + textwrap.dedent(f"""


    def get_inputs():
        torch.manual_seed(3)
        lengths = torch.randint(0, 4, (5,))
        return {inputs}


    def get_init_inputs():
        return []
    """)


# The one-argument form, its segment ids in arithmetic and as the rows a gather reads; a tensor repeated along
# its second dim; an int repeat count; an arange from 2 in steps of 3 repeated by lengths.
REPEATS = _reference("""
    segment = torch.repeat_interleave(lengths)
    rows = x[:, :2].sum(1).index_select(0, segment)
    stepped = torch.repeat_interleave(torch.arange(2, 2 + 3 * lengths.shape[0], 3, device=x.device), lengths)
    return (x.index_select(0, segment) * (segment + 1).unsqueeze(1).float(), rows, stepped * 2,
            torch.repeat_interleave(x[:, :5].t(), lengths, dim=1), x.repeat_interleave(3, dim=0))
""", "[torch.randn(5, 7), lengths]")
# Padded to jagged, with the bound written both ways round, strict and inclusive, over 3-D and 2-D padding.
MASKS = _reference("""
    position = torch.arange(x.shape[1], device=x.device)
    flat = x.sum(2)
    return x[position.unsqueeze(0) < lengths.unsqueeze(1)], flat[lengths[:, None] >= position[None, :]]
""", "[torch.randn(5, 6, 3), lengths]")

LENGTHS = {
    "empty segments": [0, 3, 0, 0, 2, 1, 0],
    "no rows": [0, 0, 0],
    "single": [9],
    "long and short": [1, 0, 40, 1, 2, 0, 1],
}


@pytest.mark.parametrize(("reference", "width"), [(REPEATS, 7), (MASKS, 6)], ids=["repeat_interleave", "masks"])
def test_rows_follow_their_segment_as_pytorch(reference: str, width: int, tmp_path) -> None:
    fused = fused_program(reference)
    expected = load(reference, tmp_path, "ref")
    candidate = load(candidate_source(reference, fused, looping=False), tmp_path, "gen")
    for name, lengths in LENGTHS.items():
        lengths = torch.tensor(lengths)
        x = torch.randn(len(lengths), width, 3) if reference is MASKS else torch.randn(len(lengths), width)
        assert_same(expected, candidate, [], [x, lengths]), name


def test_segment_ids_are_searched_where_they_are_read(tmp_path) -> None:
    """No kernel writes a row's segment: the gathers and the arithmetic on it search the ends themselves."""
    fused = fused_program(REPEATS)
    written = {o for g in fused.groups for o in g.outputs}
    searched = [g for g in fused.groups if any(m.fn == "bucketize" for m in g.members)]
    assert searched and not any(m.name in written for g in searched for m in g.members if m.fn == "bucketize")


def test_negative_lengths_raise_as_pytorch_does(tmp_path) -> None:
    candidate = load(candidate_source(REPEATS, fused_program(REPEATS), looping=False), tmp_path, "gen_bad")
    with pytest.raises(RuntimeError, match="negative length"):
        candidate.ModelNew()(torch.randn(3, 7), torch.tensor([2, -1, 3]))
    with pytest.raises(RuntimeError, match="segment lengths for"):
        candidate.ModelNew()(torch.randn(3, 7), torch.tensor([2, 1]))


def test_other_boolean_masks_are_declined_by_name() -> None:
    reference = _reference("return x[x > 0]", "[torch.randn(5, 6), lengths]")
    program = lower(trace_reference(reference))
    assert program.unsupported == ["getitem by a boolean mask other than "
                                   "`padded[arange(L)[None, :] < lengths[:, None]]`"]
