"""torch.einsum written as the product and sum its subscripts name, against PyTorch in the interpreter, and the
forms it declines by name."""

from __future__ import annotations

import pytest
import torch

from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.lowering_einsum import subscripts
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

# (equation, operand shapes): row-wise dots against one query per row and the weighted sum back (target attention),
# a batched product, a row sum, a transpose, an implicit output, an outer product and a full contraction of three.
CASES = [
    ("bld,bd->bl", [(3, 7, 5), (3, 5)]),
    ("bl,bld->bd", [(3, 7), (3, 7, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->i", [(5, 9)]),
    ("ij->ji", [(4, 6)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("i,j->ij", [(5,), (3,)]),
    ("i,i,i->", [(8,), (8,), (8,)]),
    ("bhij,bhjk->bhik", [(2, 3, 4, 5), (2, 3, 5, 6)]),
    ("bjk,bij->ibk", [(2, 3, 4), (2, 5, 3)]),
    ("ijab,ab->ij", [(3, 4, 2, 5), (2, 5)]),
    ("iab,abj->ji", [(3, 2, 5), (2, 5, 4)]),
]
# Those a GEMM: two operands, each with an index of its own, contracted over a shared one.
GEMMS = {"bij,bjk->bik", "ij,jk", "bhij,bhjk->bhik", "bjk,bij->ibk", "iab,abj->ji"}


def _reference(equation: str, shapes: list[tuple[int, ...]]) -> str:
    names = ", ".join(f"x{i}" for i in range(len(shapes)))
    return reference_module(f"""
    class Model(nn.Module):
        def forward(self, {names}):
            return torch.einsum({equation!r}, {names}) * 2.0
    """, "[" + ", ".join(f"torch.randn{shape!r}" for shape in shapes) + "]")


@pytest.mark.parametrize(("equation", "shapes"), CASES, ids=[case[0] for case in CASES])
def test_einsum_matches_pytorch(tmp_path, equation: str, shapes: list[tuple[int, ...]]) -> None:
    source = _reference(equation, shapes)
    fused = fused_program(source)
    forward = candidate_source(source, fused, looping=False).split("class ModelNew")[1]
    assert "einsum(" not in forward
    assert ("torch.matmul" in forward) == (equation in GEMMS), "GEMMs stay with cuBLAS under hybrid, nothing else"
    reference = load(source, tmp_path, "einsum_reference")
    candidate = load(candidate_source(source, fused, looping=False), tmp_path, "einsum_candidate")
    assert_same(reference, candidate, [], [torch.randn(*shape) for shape in shapes])
    # Other sizes of the same subscripts: nothing of the traced shapes is baked in.
    sizes = {letter: 2 + ord(letter) % 5 for letter in equation}
    parts = equation.split("->")[0].split(",")
    bigger = [tuple(sizes[letter] for letter in part) for part in parts]
    assert_same(reference, candidate, [], [torch.randn(*shape) for shape in bigger])


def test_one_fused_kernel_computes_a_contraction() -> None:
    fused = fused_program(_reference("bld,bd->bl", [(3, 7, 5), (3, 5)]))
    assert len(fused.groups) == 1 and fused.groups[0].reduced_dims == (2,)


def test_under_strict_a_gemm_shaped_einsum_is_a_kernel_of_ours() -> None:
    fused = fused_program(_reference("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), strict=True)
    assert [group.reduced_dims for group in fused.groups] == [(3,)], "the product summed over j, in one kernel"
    assert not any(getattr(stage, "vendor", None) for stage in fused.stages)


@pytest.mark.parametrize(("equation", "why"), [
    ("ii->i", "repeated within one operand"),
    ("...ij->...i", "ellipsis"),
])
def test_forms_without_a_generator_are_declined_by_name(equation: str, why: str) -> None:
    assert isinstance(subscripts(equation, 1), str) and why in subscripts(equation, 1)
    program = lower(trace_reference(_reference(equation, [(4, 4)])))
    assert any(why in reason for reason in program.unsupported), program.unsupported


def test_implicit_output_is_the_indices_that_appear_once_in_order() -> None:
    assert subscripts("ba,ac", 2) == (["ba", "ac"], "bc")
    assert "output index no operand has" in subscripts("ij->k", 1)
    assert "do not name each" in subscripts("ij,jk->ik", 1)
