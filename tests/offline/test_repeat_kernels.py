"""repeat_interleave, padded to jagged and jagged to padded against PyTorch, on lengths the trace never saw, in the
interpreter.

Each reference is traced once (its inputs need values, so on real CPU tensors); its generated module then runs on
fresh lengths: empty segments, no rows at all, a single segment, one long segment among many short ones, and (for
masks) lengths past the padded width. A row's segment is searched in the kernel that reads it: no kernel writes it.
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
# Empty segments, no rows at all, a single segment, one long segment among short ones (past a mask's width).
LENGTHS = [[0, 3, 0, 0, 6, 1, 0], [0, 0, 0], [9], [1, 0, 40, 1, 2, 0, 1]]


def test_rows_follow_their_segment_as_pytorch(tmp_path) -> None:
    expected = load(REPEATS, tmp_path, "ref")
    candidate = load(candidate_source(REPEATS, fused_program(REPEATS), looping=False), tmp_path, "gen")
    for lengths in LENGTHS:
        assert_same(expected, candidate, [], [torch.randn(len(lengths), 7), torch.tensor(lengths)])


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


# Jagged to padded, written as a constant and an assignment by a length mask (rows past the width are dropped),
# then a 2-D buffer of ones given values computed from the padded result; padded to jagged again, with the bound
# written both ways round, strict and inclusive, over 3-D and 2-D padding.
ASSIGNED = _reference("""
    position = torch.arange(4, device=x.device)
    valid = position[None, :] < lengths[:, None]
    starts = torch.cumsum(lengths, 0) - lengths
    padded = x.new_zeros(lengths.shape[0], 4, x.shape[1])
    padded[valid] = x[(starts[:, None] + position[None, :])[valid]]
    firsts = x.new_ones(lengths.shape[0], 4)
    firsts[valid] = padded[valid][:, 0] * 2.0
    return padded, firsts, firsts[lengths[:, None] - 1 >= position[None, :]]
""", "[torch.randn(int(lengths.sum()), 3), lengths]")


def test_assignment_and_selection_by_a_length_mask_pad_and_unpad_as_pytorch(tmp_path) -> None:
    fused = fused_program(ASSIGNED)
    # Rows selected by the assignment's own mask are read in place: x straight into the padded result.
    assert any(m.kind == "gather" and m.args[0] == "x" and len(m.shape.dims) == 3 for g in fused.groups
               for m in g.members)
    expected = load(ASSIGNED, tmp_path, "ref_assigned")
    candidate = load(candidate_source(ASSIGNED, fused, looping=False), tmp_path, "gen_assigned")
    for lengths in map(torch.tensor, LENGTHS):
        assert_same(expected, candidate, [], [torch.randn(int(lengths.sum()), 3), lengths])


def test_other_masks_and_assignments_are_declined_by_name() -> None:
    reference = _reference("""
        x[torch.arange(6, device=x.device)[None, :] < lengths[:, None]] = 0.0
        return x[x > 0]
    """, "[torch.randn(5, 6), lengths]")
    program = lower(trace_reference(reference))
    assert program.unsupported == [
        "setitem other than `buffer[arange(L)[None, :] < lengths[:, None]] = rows` (rows back to back)",
        "getitem by a boolean mask other than `padded[arange(L)[None, :] < lengths[:, None]]`"]
