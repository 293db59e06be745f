"""Integer elementwise functions, aranges, sorted-table searches and concatenations against PyTorch.

Each reference is traced once (with the input dtypes it names) and its generated module runs in Triton's
interpreter on shapes and tables it was not traced with: integers past int32 and negative, out-of-range and
tied values for the searches, tables of one entry and of lengths that are not powers of two.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from kevolve.eval_harness.module_loader import module_from_source
from kevolve.eval_harness.problem import load_problem
from kevolve.tools.offline import dtypes
from kevolve.tools.offline.engine import OfflineEngine
from kevolve.tools.offline.program import Scalar
from offline_helpers import assert_same, candidate_source, fused_program, load

HEADER = "import torch\nimport torch.nn as nn\n\n"
PROBLEMS = Path(__file__).resolve().parents[2] / "eval_harness" / "problems"


def _reference(forward: str, inputs: str) -> str:
    """A Model whose forward takes `forward`'s first line (`a, b = inputs`) as its parameters."""
    first, _, forward = textwrap.dedent(forward).strip().partition("\n")
    arguments = first.removesuffix("= inputs").strip().strip("()").rstrip(",")
    body = textwrap.indent(textwrap.dedent(forward).strip(), " " * 12)
    return HEADER + textwrap.dedent(f"""
    class Model(nn.Module):
        def forward(self, {arguments}):
{body}


    def get_inputs():
        return {inputs}


    def get_init_inputs():
        return []
    """)


def _check(reference_source: str, make_inputs: Callable[[int, int], list[torch.Tensor]],
           shapes: list[tuple[int, int]], tmp_path: Path, name: str, looping: bool = False) -> None:
    """The generated module against the reference on each (rows, cols) shape, none of them the traced one."""
    fused = fused_program(reference_source)
    reference = load(reference_source, tmp_path, f"ref_{name}")
    candidate = load(candidate_source(reference_source, fused, looping=looping), tmp_path, f"gen_{name}")
    for seed, shape in enumerate(shapes):
        torch.manual_seed(seed)
        assert_same(reference, candidate, [], make_inputs(*shape))


def _integers(dtype: torch.dtype, *shape: int) -> torch.Tensor:
    """Values across the dtype's range, negative ones included, so that products wrap."""
    info = torch.iinfo(dtype)
    return torch.randint(info.min // 2, info.max // 2, shape, dtype=dtype)


INTEGER_FUNCTIONS = """
a, b = inputs
d = torch.where(b == 0, 7, b)
hashed = (a + 1) * 2654435761 ^ (b * 2246822519)
bits = (a & b) | (~a) ^ (b >> 3) | (a << 2)
shifts = torch.bitwise_left_shift(a, b % 70 - 2), torch.bitwise_right_shift(a, b % 70 - 2)
divided = torch.remainder(a, d), a % -5, torch.fmod(a, d), a // d, torch.div(a, d, rounding_mode="trunc")
logical = torch.logical_and(a > 0, b), torch.logical_xor(a, b < 0), torch.logical_not(a % 3)
mixed = a * 0.5 + b, (a / d), a.float() - 1.5, (a > b).long() * 3, a.to(torch.int16), a.bool()
return (hashed, torch.remainder(hashed, 1000003), bits, *shifts, *divided, *logical, *mixed,
        torch.maximum(a, b), torch.abs(a), -b)
"""


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64], ids=["int32", "int64"])
def test_integer_functions_compute_in_the_integers_dtype_as_pytorch(dtype: torch.dtype, tmp_path) -> None:
    name = str(dtype).removeprefix("torch.")
    source = _reference(INTEGER_FUNCTIONS, f"[torch.randint(-9, 9, (4, 5), dtype=torch.{name}), "
                                           f"torch.randint(-9, 9, (5,), dtype=torch.{name})]")
    _check(source, lambda n, m: [_integers(dtype, n, m), _integers(dtype, m)], [(1, 3), (7, 37), (13, 130)],
           tmp_path, f"integers_{name}")


def test_small_divisors_and_negative_values_take_the_divisors_sign(tmp_path) -> None:
    source = _reference("""
        a, b = inputs
        return torch.remainder(a, b), a // b, torch.fmod(a, b), torch.remainder(a.float(), b.float()) * 1.0, \\
            torch.floor_divide(a.float() * 0.75, b.float()), torch.div(a.float(), b.float(), rounding_mode="trunc")
    """, "[torch.randint(-9, 9, (4, 5)), torch.randint(1, 9, (4, 5))]")

    def inputs(n: int, m: int) -> list[torch.Tensor]:
        a = torch.randint(-50, 50, (n, m))
        b = torch.randint(1, 9, (n, m)) * (torch.randint(0, 2, (n, m)) * 2 - 1)
        return [a, b]

    _check(source, inputs, [(3, 5), (9, 41)], tmp_path, "divisors")


def test_float_to_integer_conversions_truncate_and_keep_the_requested_dtype(tmp_path) -> None:
    source = _reference("""
        (x,) = inputs
        return x.long(), x.to(torch.int32) + 1, (x * 3).int() // 2, x.bool(), (x > 0).float() + x
    """, "[torch.randn(4, 5)]")
    _check(source, lambda n, m: [torch.randn(n, m) * 40], [(2, 3), (8, 33)], tmp_path, "conversions")


def test_arange_masks_are_computed_in_the_kernel_without_a_tensor(tmp_path) -> None:
    source = _reference("""
        x, lengths = inputs
        positions = torch.arange(x.shape[1], device=x.device)
        valid = positions[None, :] < lengths[:, None]
        shifted = torch.arange(3, 3 + 2 * x.shape[1], 2, device=x.device).unsqueeze(0)
        tail = torch.arange(x.shape[1] + 2, device=x.device)[2:]
        return torch.where(valid, x, 0.0) + shifted * 0.5, valid, tail * lengths[:, None], \\
            torch.arange(x.shape[1], dtype=torch.float32, device=x.device) * x
    """, "[torch.randn(4, 6), torch.randint(0, 6, (4,))]")
    fused = fused_program(source)
    # The outputs share one shape and one kernel (independent elementwise steps of a shape fuse), which computes
    # the aranges it reads: none is written to memory.
    assert len(fused.groups) == 1 and all(group.index_inputs for group in fused.groups)

    def inputs(n: int, m: int) -> list[torch.Tensor]:
        return [torch.randn(n, m), torch.randint(0, m + 2, (n,))]

    _check(source, inputs, [(1, 1), (5, 17), (9, 70)], tmp_path, "arange")
    text = candidate_source(source, fused, looping=False)
    assert "torch.arange" not in text and "device='meta'" in text


def test_an_arange_in_a_reduction_is_its_index_too(tmp_path) -> None:
    source = _reference("""
        (x,) = inputs
        weights = torch.arange(x.shape[-1], device=x.device) + 1
        return (x * weights).sum(-1), (x - weights).amax(-1)
    """, "[torch.randn(4, 6)]")
    for looping in (False, True):
        _check(source, lambda n, m: [torch.randn(n, m)], [(3, 5), (6, 40)], tmp_path, f"arange_sum_{looping}",
               looping=looping)


def _table(length: int, *, ties: bool) -> torch.Tensor:
    table = torch.sort(torch.randn(length) * 2.0).values
    return torch.repeat_interleave(table, 2)[:length] if ties else table


SEARCHES = """
x, table = inputs
return (torch.bucketize(x, table), torch.bucketize(x, table, right=True),
        torch.searchsorted(table, x), torch.searchsorted(table, x, side="right"),
        torch.searchsorted(table, x, right=True, out_int32=True) + 1, torch.bucketize(x, table, out_int32=True))
"""


@pytest.mark.parametrize("length", [1, 5, 63, 64, 100])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_bucketize_and_searchsorted_count_as_pytorch(length: int, ties: bool, tmp_path) -> None:
    source = _reference(SEARCHES, "[torch.randn(4, 5), torch.sort(torch.randn(7)).values]")

    def inputs(n: int, m: int) -> list[torch.Tensor]:
        table = _table(length, ties=ties)
        picks = table[torch.randint(0, length, (n, m))]  # exactly on a boundary
        outside = torch.where(torch.rand(n, m) < 0.5, table[0] - 1.0, table[-1] + 1.0)
        x = torch.where(torch.rand(n, m) < 0.4, picks, torch.where(torch.rand(n, m) < 0.3, outside,
                                                                   torch.randn(n, m) * 3))
        x[0, 0] = float("nan")
        return [x, table]

    _check(source, inputs, [(1, 2), (6, 33)], tmp_path, f"search_{length}_{ties}")


def test_a_search_of_integers_over_a_strided_table(tmp_path) -> None:
    source = _reference("""
        ids, table = inputs
        return torch.bucketize(ids, table[::2], right=True) * 2654435761 % 1009
    """, "[torch.randint(0, 50, (4, 5)), torch.arange(0, 80, 3)]")
    def inputs(n: int, m: int) -> list[torch.Tensor]:
        return [torch.randint(-10, 120, (n, m)), torch.sort(torch.randint(0, 100, (2 * m + 1,))).values]

    _check(source, inputs, [(2, 3), (5, 20)], tmp_path, "search_ints")


def test_a_search_feeds_a_reduction_in_both_of_its_forms(tmp_path) -> None:
    source = _reference("""
        x, table = inputs
        return (x * torch.bucketize(x, table, right=True)).sum(-1), torch.softmax(torch.searchsorted(table, x) * x, -1)
    """, "[torch.randn(4, 5), torch.sort(torch.randn(9)).values]")
    for looping in (False, True):
        _check(source, lambda n, m: [torch.randn(n, m), torch.sort(torch.randn(m + 2)).values], [(3, 4), (5, 45)],
               tmp_path, f"search_reduction_{looping}", looping=looping)


CONCATENATIONS = """
a, b, c = inputs
inner = torch.cat([a, b], dim=-1)
outer = torch.cat([a, c, a * 2.0], dim=0)
stacked = torch.stack([a, b[:, :a.shape[1]]], dim=1)
return inner * 2.0 + 1.0, outer, stacked, torch.cat((a.unsqueeze(1), c.unsqueeze(1)), 1)
"""


def test_concatenations_read_each_element_from_the_piece_that_holds_it(tmp_path) -> None:
    source = _reference(CONCATENATIONS, "[torch.randn(4, 5), torch.randn(4, 7), torch.randn(4, 5)]")
    fused = fused_program(source)
    assert {tuple(m.fn for m in g.members) for g in fused.groups} >= {("cat", "mul", "add"), ("cat",)}

    def inputs(n: int, m: int) -> list[torch.Tensor]:
        return [torch.randn(n, m), torch.randn(n, m + 3).t().contiguous().t(), torch.randn(n, m)]

    _check(source, inputs, [(1, 1), (6, 17), (11, 40)], tmp_path, "cat")


def test_a_reduction_reads_its_concatenation_in_place_in_both_of_its_forms(tmp_path) -> None:
    source = _reference("""
        a, b, c = inputs
        return torch.softmax(torch.cat([a, b * 2.0, c], dim=-1), dim=-1), torch.cat([a, c], dim=0).amax(-1)
    """, "[torch.randn(4, 5), torch.randn(4, 3), torch.randn(4, 5)]")
    fused = fused_program(source)
    assert all(group.kind == "reduction" for group in fused.groups if any(m.fn == "cat" for m in group.members))

    def inputs(n: int, m: int) -> list[torch.Tensor]:
        return [torch.randn(n, m), torch.randn(n, m // 2 + 1), torch.randn(m, n).t()]

    for looping in (False, True):
        _check(source, inputs, [(2, 3), (5, 40)], tmp_path, f"cat_reduction_{looping}", looping=looping)


def test_a_concatenation_of_integers_promotes_as_pytorch(tmp_path) -> None:
    source = _reference("""
        ids, more = inputs
        return torch.cat([ids, more], dim=1) ^ 5, torch.cat([ids, more[:, 1:].int()], 0)
    """, "[torch.randint(0, 9, (3, 4), dtype=torch.int32), torch.randint(0, 9, (3, 5))]")
    _check(source, lambda n, m: [_integers(torch.int32, n, m), _integers(torch.int64, n, m + 1)], [(2, 3), (7, 19)],
           tmp_path, "cat_ints")


def _problem(name: str) -> str:
    return (PROBLEMS / f"{name}.py").read_text()


def test_the_dot_interaction_is_two_concatenations_around_a_gather_of_the_triangle(tmp_path) -> None:
    engine = OfflineEngine()
    design = engine.design(_problem("recsys_dot_interaction"), "hybrid")
    assert design.supported and [g.operations[-1] for g in design.groups] == ["cat", "subscript", "cat"]
    source = _reference("""
        dense, sparse = inputs
        feats = torch.cat([dense.unsqueeze(1), sparse], dim=1)
        gram = torch.bmm(feats, feats.transpose(1, 2))
        return torch.cat([dense, gram.flatten(1)], dim=1)
    """, "[torch.randn(4, 6), torch.randn(4, 3, 6)]")
    design = engine.design(source, "hybrid")
    assert design.supported and [g.operations for g in design.groups] == [["cat"], ["cat"]]
    _check(source, lambda n, m: [torch.randn(n, m), torch.randn(n, 5, m)], [(2, 3), (9, 13)], tmp_path,
           "interaction")


def test_the_engine_writes_bucketize_and_hash_as_one_kernel_that_matches_every_small_config(tmp_path) -> None:
    source = _problem("recsys_bucketize_hash")
    engine = OfflineEngine()
    design = engine.design(source, "hybrid")
    assert design.supported and len(design.groups) == 1, design.describe()
    proposal = engine.propose(source, "hybrid", [], set())
    problem = load_problem(PROBLEMS / "recsys_bucketize_hash.py")
    candidate = load(proposal.source, tmp_path, "gen_bucketize_hash")
    for config in ("small", "small_odd"):
        reference = module_from_source(source, stem=f"ref_{config}", workdir=tmp_path,
                                       overrides=problem.overrides(config))
        for seed in range(2):
            torch.manual_seed(seed)
            assert_same(reference, candidate, list(reference.get_init_inputs()), list(reference.get_inputs()))


_BINARY = {"add": torch.add, "mul": torch.mul, "remainder": torch.remainder, "floor_divide": torch.floor_divide,
           "div": torch.div, "maximum": torch.maximum, "bitwise_xor": torch.bitwise_xor,
           "left_shift": torch.bitwise_left_shift, "lt": torch.lt, "logical_and": torch.logical_and}
_DTYPES = [torch.bool, torch.uint8, torch.int32, torch.int64, torch.float16, torch.float32]


@pytest.mark.parametrize("fn", sorted(_BINARY))
def test_result_dtypes_follow_pytorchs_promotion(fn: str) -> None:
    for first, second in itertools.product(_DTYPES, [*_DTYPES, 3, 2.5]):
        a = torch.ones(2, dtype=first)
        b = torch.ones(2, dtype=second) if isinstance(second, torch.dtype) else second
        try:
            expected = _BINARY[fn](a, b).dtype
        except (RuntimeError, TypeError):  # a combination PyTorch refuses (bitwise functions of floats)
            continue
        tensors = [str(first)] + ([str(second)] if isinstance(second, torch.dtype) else [])
        scalars = [] if isinstance(second, torch.dtype) else [Scalar(repr(second), literal=True)]
        assert dtypes.result_dtype(fn, tensors, scalars) == str(expected), (fn, first, second)
