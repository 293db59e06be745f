"""Indexed loads (embedding lookups, index_select, gather, take_along_dim) against PyTorch, in the interpreter.

Each reference is traced once and its generated module run on fresh ids and shapes it was not traced with: int32 and
int64 ids, a single id, ids repeated, widths that are not a power of two, with default and looping configurations.
An id outside the table raises, as PyTorch does, instead of reading out of bounds.
"""

from __future__ import annotations

import textwrap

import pytest
import torch

from offline_helpers import assert_same, candidate_source, fused_program, load

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"


def _reference(forward: str, signature: str, traced_inputs: str) -> str:
    return HEADER + textwrap.dedent(f"""
    class Model(nn.Module):
        def __init__(self, rows, dim):
            super().__init__()
            self.emb = nn.Embedding(rows, dim)
            self.scale = nn.Parameter(torch.randn(dim))

        def forward(self, {signature}):
            return {forward}


    def get_inputs():
        return {traced_inputs}


    def get_init_inputs():
        return [40, 12]
    """)


CASES = {
    # name: (forward, the inputs it is traced with, inputs(generator, ids dtype, count) for the check)
    "embedding_epilogue": ("torch.relu(self.emb(ids)) * self.scale",
                           "[torch.randint(0, 40, (4, 7)), torch.zeros(1)]",
                           lambda g, dt, n: [torch.randint(0, 40, (n, 5), generator=g, dtype=dt), torch.zeros(1)]),
    "functional_embedding": ("F.embedding(ids, x) + 1.0", "[torch.randint(0, 6, (4, 7)), torch.randn(6, 9)]",
                             lambda g, dt, n: [torch.randint(0, 11, (n, 3), generator=g, dtype=dt),
                                               torch.randn(11, 13, generator=g)]),
    "index_select_rows": ("torch.index_select(x, 0, ids) * 3.0", "[torch.randint(0, 6, (4,)), torch.randn(6, 9)]",
                          lambda g, dt, n: [torch.randint(0, 9, (n,), generator=g, dtype=dt),
                                            torch.randn(9, 21, generator=g)]),
    "index_select_inner": ("torch.sigmoid(x.index_select(1, ids))", "[torch.randint(0, 9, (4,)), torch.randn(6, 9)]",
                           lambda g, dt, n: [torch.randint(0, 21, (n,), generator=g, dtype=dt),
                                             torch.randn(9, 21, generator=g)]),
    "gather_dim1": ("torch.gather(x, 1, ids) - 0.5", "[torch.randint(0, 9, (6, 4)), torch.randn(6, 9)]",
                    lambda g, dt, n: [torch.randint(0, 21, (5, n), generator=g, dtype=torch.long),
                                      torch.randn(9, 21, generator=g)]),
    "take_along_dim0": ("torch.take_along_dim(x, ids, dim=0) * x[:1]", "[torch.randint(0, 6, (3, 9)), "
                        "torch.randn(6, 9)]",
                        lambda g, dt, n: [torch.randint(0, 9, (4, 21), generator=g, dtype=torch.long),
                                          torch.randn(9, 21, generator=g)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("count", [1, 37])
@pytest.mark.parametrize("ids_dtype", [torch.int64, torch.int32])
def test_gathers_match_pytorch(case: str, count: int, ids_dtype: torch.dtype, tmp_path) -> None:
    forward, traced_inputs, inputs_of = CASES[case]
    reference = _reference(forward, "ids, x", traced_inputs)
    fused = fused_program(reference)
    assert any(m.kind == "gather" for g in fused.groups for m in g.members)
    generator = torch.Generator().manual_seed(count)
    inputs = inputs_of(generator, ids_dtype, count)
    for looping in (False, True):
        name = f"{case}_{count}_{str(ids_dtype)[6:]}_{looping}"
        module = load(candidate_source(reference, fused, looping=looping), tmp_path, f"gen_{name}")
        assert_same(load(reference, tmp_path, f"ref_{name}"), module, [40, 12], inputs)


@pytest.mark.parametrize("bad_id", [40, -1])
def test_an_id_outside_the_table_raises(bad_id: int, tmp_path) -> None:
    forward, traced_inputs, _ = CASES["embedding_epilogue"]
    reference = _reference(forward, "ids, x", traced_inputs)
    module = load(candidate_source(reference, fused_program(reference), looping=False), tmp_path, f"bad{bad_id}")
    ids = torch.randint(0, 40, (3, 5))
    ids[1, 2] = bad_id
    with pytest.raises(RuntimeError, match="index outside"):
        module.ModelNew(40, 12)(ids, torch.zeros(1))


def test_a_gather_index_larger_than_its_source_raises(tmp_path) -> None:
    forward, traced_inputs, _ = CASES["gather_dim1"]
    reference = _reference(forward, "ids, x", traced_inputs)
    module = load(candidate_source(reference, fused_program(reference), looping=False), tmp_path, "larger")
    ids = torch.randint(0, 9, (7, 4))  # 7 rows of ids against a 6-row source: PyTorch raises too
    with pytest.raises(RuntimeError, match="larger than its source"):
        module.ModelNew(40, 12)(ids, torch.randn(6, 9))
