"""Indexing by tensors and triangle indices against PyTorch, in the interpreter.

Each reference is traced once and its generated module run on shapes and offsets it was not traced with: square and
rectangular triangles, offsets past either corner (an empty triangle, a full one), index tensors that broadcast,
adjacent and split indexed dims, negative ids, a slice before the gather. An id outside the tensor raises. Triangles
of a batched product are also computed by the pairwise schedule's kernel (tiles of pairs, steps along the features),
and both recommendation problems pass every small configuration in both schedules.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import torch

from kevolve.eval_harness.module_loader import module_from_source
from kevolve.eval_harness.problem import load_problem
from kevolve.tools.offline.configs import GroupConfig, default_config
from kevolve.tools.offline.engine import OfflineEngine
from kevolve.tools.offline.fusion_groups import FusedProgram
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.schedules import Schedule, build
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

PROBLEMS = Path(__file__).resolve().parents[2] / "eval_harness" / "problems"

TRIANGLES = reference_module("""
    class Model(nn.Module):
        def __init__(self, low, high):
            super().__init__()
            self.low, self.high = low, high

        def forward(self, x):
            rows, cols = torch.tril_indices(x.shape[0], x.shape[1], self.low)
            upper = torch.triu_indices(x.shape[0], x.shape[1], offset=self.high)
            return x[rows, cols] + rows * 100 + cols, x[upper[0], upper[1]] - upper[0] * 100 - upper[1]
    """, "[torch.randn(5, 5)]", "[-1, 1]")

PAIRS = reference_module("""
    class Model(nn.Module):
        def __init__(self, low, high):
            super().__init__()
            self.low, self.high = low, high

        def forward(self, a, b):
            gram = torch.bmm(a, b)
            rows, cols = torch.tril_indices(a.shape[1], b.shape[2], self.low)
            upper = torch.triu_indices(a.shape[1], b.shape[2], self.high)
            return gram[:, rows, cols] * 2.0, gram[:, upper[0], upper[1]]
    """, "[torch.randn(2, 5, 8), torch.randn(2, 8, 5)]", "[-1, 1]")
# 16 x 16 pairs a program, 16 features a step: small products still take several tiles and steps.
SMALL_TILES = GroupConfig(tile_m=16, tile_n=16, tile_k=16, warps=2)

SUBSCRIPTS = reference_module("""
    class Model(nn.Module):
        def forward(self, x, i, j):
            return x[:, i, j] * 2.0, x[i, :, j], x[..., j] + 1.0, x[1:, i]
    """, "[torch.randn(3, 4, 5), torch.randint(0, 3, (2, 1)), torch.randint(0, 4, (3,))]")


@functools.cache
def _pairwise_program() -> FusedProgram:
    return build(trace_reference(PAIRS), "hybrid", Schedule(pairwise=True))


def _fused_kernels(reference: str) -> list[str]:
    return [m.fn for g in fused_program(reference).groups for m in g.members]


@pytest.mark.parametrize(("rows", "cols", "low", "high"), [
    (6, 6, -1, 1),  # the strict triangles the recommendation models take
    (4, 9, 2, -1),  # wider than tall: rows of the lower triangle fill up
    (9, 4, -3, 2),  # taller than wide: the upper triangle empties before the last row
    (3, 5, -4, 6),  # past the corners: nothing below, nothing above
    (1, 7, 0, -3),  # one row
])
def test_triangles_match_pytorch(rows: int, cols: int, low: int, high: int, tmp_path) -> None:
    fns = _fused_kernels(TRIANGLES)
    assert "triangle" in fns and "subscript" in fns
    name = f"tri_{rows}_{cols}_{low}_{high}".replace("-", "m")
    module = load(candidate_source(TRIANGLES, fused_program(TRIANGLES), looping=False), tmp_path, f"gen_{name}")
    x = torch.randn(rows, cols, generator=torch.Generator().manual_seed(rows * cols))
    assert_same(load(TRIANGLES, tmp_path, f"ref_{name}"), module, [low, high], [x])


@pytest.mark.parametrize(("shape", "i_shape", "j_shape"), [((3, 4, 5), (2, 1), (3,)), ((6, 7, 9), (1, 4), (1,))])
def test_index_tensors_match_pytorch(shape: tuple, i_shape: tuple, j_shape: tuple, tmp_path) -> None:
    assert _fused_kernels(SUBSCRIPTS).count("subscript") == 4
    generator = torch.Generator().manual_seed(len(i_shape) + shape[0])
    x = torch.randn(shape, generator=generator)
    # i picks along dims 0 and 1, j along dim 2; negative ids count from the end.
    i_extent = min(shape[:2])
    i = torch.randint(-i_extent, i_extent, i_shape, generator=generator)
    j = torch.randint(-shape[2], shape[2], j_shape, generator=generator)
    name = f"sub_{shape[0]}"
    for looping in (False, True):
        module = load(candidate_source(SUBSCRIPTS, fused_program(SUBSCRIPTS), looping=looping), tmp_path,
                      f"gen_{name}_{looping}")
        assert_same(load(SUBSCRIPTS, tmp_path, f"ref_{name}"), module, [], [x, i, j])


@pytest.mark.parametrize("bad", [3, -4])
def test_an_index_outside_the_tensor_raises(bad: int, tmp_path) -> None:
    module = load(candidate_source(SUBSCRIPTS, fused_program(SUBSCRIPTS), looping=False), tmp_path, f"bad{-bad}")
    i = torch.tensor([[0], [bad]])
    with pytest.raises(RuntimeError, match="index outside"):
        module.ModelNew()(torch.randn(3, 4, 5), i, torch.tensor([0, 1, 2]))


@pytest.mark.parametrize(("rows", "inner", "cols", "low", "high"), [
    (20, 24, 37, 1, -2),  # several tiles of the product each way, the features in two steps
    (5, 7, 5, -6, 0),  # no lower pairs, the upper triangle with its diagonal
])
def test_pairwise_products_match_pytorch(rows: int, inner: int, cols: int, low: int, high: int, tmp_path) -> None:
    fused = _pairwise_program()
    assert [g.kind for g in fused.groups].count("pairwise") == 2 and not fused.program.vendor_calls
    configs = {g.name: SMALL_TILES if g.kind == "pairwise" else default_config(g) for g in fused.groups}
    name = f"pairs_{rows}_{low}".replace("-", "m")
    module = load(module_source(PAIRS, fused, configs, "test"), tmp_path, f"gen_{name}")
    generator = torch.Generator().manual_seed(rows)
    a, b = torch.randn(3, rows, inner, generator=generator), torch.randn(3, inner, cols, generator=generator)
    assert_same(load(PAIRS, tmp_path, f"ref_{name}"), module, [low, high], [a, b])


@pytest.mark.parametrize("name", ["recsys_dot_interaction", "recsys_sparse_pairwise_dots"])
def test_the_pairwise_interactions_match_every_small_config_in_both_schedules(name: str, tmp_path) -> None:
    path = PROBLEMS / f"{name}.py"
    source, problem, engine = path.read_text(), load_problem(path), OfflineEngine()
    assert engine.design(source, "hybrid").alternatives == [Schedule(pairwise=True).label]
    for i in range(2):  # each schedule's defaults come first
        proposal = engine.propose(source, "hybrid", [], set())
        assert "default configurations" in proposal.notes
        candidate = load(proposal.source, tmp_path, f"gen_{name}_{i}")
        for config in [c for c in problem.configs if c.startswith("small")]:
            reference = module_from_source(source, stem=f"ref_{config}", workdir=tmp_path,
                                           overrides=problem.overrides(config))
            torch.manual_seed(0)
            assert_same(reference, candidate, [], list(reference.get_inputs()))
