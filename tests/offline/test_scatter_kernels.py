"""index_add, scatter_add and bincount against PyTorch, in the interpreter, on edge lists the trace never saw.

Each reference is traced once; its generated module then runs on fresh graphs: random destinations, nodes with no
edge, one hub among many small nodes, every edge to one node, and no edge at all, in random order. The values a
scatter adds are made in the kernel that adds them (never written), its output starts from zeros or from a copy
of an input, and bad ids raise as the reference does instead of writing out of bounds.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest
import torch

from kevolve.tools.offline.configs import GroupConfig, default_config, neighbours
from kevolve.tools.offline.fusion import fuse
from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.module_source import module_source
from kevolve.tools.offline.schedules import PLAIN, Schedule, alternatives
from kevolve.tools.offline.sorted_scatter_source import sortable
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import load, reference_module

_INPUTS = "[torch.randn(10, 6), torch.randint(0, 10, (23,)), torch.randint(0, 10, (23,)), torch.rand(23)]"
CASES = {
    # A GraphSAGE mean: gathered, weighted messages added by destination, divided by the clamped in-degree.
    "gnn_mean": """
    class Model(nn.Module):
        def forward(self, x, src, dst, w):
            messages = x.index_select(0, src) * w.unsqueeze(1)
            summed = torch.zeros_like(x).index_add_(0, dst, messages)
            degree = torch.bincount(dst, minlength=x.shape[0]).clamp(min=1).to(x.dtype)
            return summed / degree.unsqueeze(1)
    """,
    # Out of place into a computed tensor (its values copied first) with a row-broadcast index; a zeros(shape)
    # start with alpha; weighted counts (fp32 sums); a new_zeros start; epilogues in the kernels after them.
    "mixed": """
    class Model(nn.Module):
        def forward(self, x, src, dst, w):
            index = dst.unsqueeze(1).expand(-1, x.shape[1])
            added = torch.relu(x[:1].expand(dst.shape[0], -1) + w.unsqueeze(1))
            into_input = (x * 2.0).scatter_add(0, index, added)
            start = torch.zeros(x.shape, device=x.device)
            scaled = torch.index_add(start, 0, dst, x.index_select(0, src), alpha=0.5)
            counts = torch.bincount(dst, weights=w, minlength=x.shape[0])
            rows = x.new_zeros(x.shape).index_add(0, src, x.index_select(0, dst) * 2.0)
            return into_input + torch.tanh(scaled) * counts.unsqueeze(1) - rows
    """,
}
# Several programs, so blocks race on the same output rows; sorted, 4 rows a step over 4-column slices.
SMALL = GroupConfig(block=16, warps=1, chunk=4, tile_n=4)
SORTED = Schedule(sorted_scatters=True)


def _destinations(kind: str, nodes: int, edges: int, generator: torch.Generator) -> torch.Tensor:
    if kind == "hub":  # one node gets most edges, the other even nodes a few each, the odd ones none
        dst = 2 * torch.randint(0, (nodes + 1) // 2, (edges,), generator=generator)
        dst[torch.rand(edges, generator=generator) < 0.7] = nodes // 2
        return dst
    if kind == "one_node":
        return torch.full((edges,), nodes - 1)
    return torch.randint(0, nodes, (edges,), generator=generator)


@functools.cache
def _traced(case: str):
    return trace_reference(reference_module(CASES[case], _INPUTS))


@functools.cache
def _fused(case: str):
    return fuse(lower(_traced(case)))


@functools.cache
def _built(case: str, small: bool, schedule: Schedule = PLAIN):
    """The reference and its generated module (each case is traced once for all the graphs it runs on)."""
    reference = reference_module(CASES[case], _INPUTS)
    fused = _fused(case)
    configs = {g.name: SMALL if small else default_config(g) for g in fused.groups}
    folder, name = Path(tempfile.mkdtemp()), f"{case}_{small}_{schedule.sorted_scatters}"
    source = module_source(reference, fused, configs, "test", schedule=schedule)
    return load(reference, folder, f"ref_{name}"), load(source, folder, f"gen_{name}")


def test_messages_are_made_in_the_kernel_that_adds_them() -> None:
    edges = _fused("gnn_mean").groups[0]
    assert [m.kind for m in edges.members] == ["gather", "pointwise", "scatter"]
    assert edges.outputs == ["index_add_"]  # the messages never leave the kernel
    assert sortable(edges) and SORTED in alternatives(_traced("gnn_mean"), "balanced", _fused("gnn_mean"), 132)
    moved = {key for option in neighbours(edges, default_config(edges), sorted_scatter=True)
             for key, value in option.model_dump().items() if value != getattr(default_config(edges), key)}
    assert moved == {"chunk", "tile_n", "warps"}  # the sorted form's tiles; the atomic form's walk moves `block`


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("nodes", "dim", "edges", "kind"), [
    (37, 5, 90, "random"), (20, 4, 120, "hub"), (1, 7, 40, "one_node"),
    (9, 6, 0, "random"),
])
def test_scatter_kernels_match_pytorch(case: str, nodes: int, dim: int, edges: int, kind: str) -> None:
    """Atomics, and the sorted form (index_add's rows sorted by destination, then reduced per output row)."""
    generator = torch.Generator().manual_seed(nodes * 31 + edges)
    inputs = [torch.randn(nodes, dim, generator=generator), torch.randint(0, nodes, (edges,), generator=generator),
              _destinations(kind, nodes, edges, generator), torch.rand(edges, generator=generator)]
    for schedule in (PLAIN, SORTED):
        reference, generated = _built(case, kind == "hub", schedule)
        want, got = reference.Model()(*inputs), generated.ModelNew()(*inputs)
        assert got.shape == want.shape and got.dtype == want.dtype
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_the_sort_is_stable_and_puts_bad_ids_last() -> None:
    """The sorted form sums each destination's rows in their input order, so every run adds in the same order."""
    _, generated = _built("gnn_mean", False, SORTED)
    ids = torch.randint(0, 37, (3000,), generator=torch.Generator().manual_seed(2))
    keys, order = generated._sort_rows(ids, 37, torch.ones(1, dtype=torch.bool))
    want_keys, want_order = torch.sort(ids, stable=True)
    assert torch.equal(keys, want_keys) and torch.equal(order, want_order)
    ids[[5, 2500]] = torch.tensor([37, -4])
    ok = torch.ones(1, dtype=torch.bool)
    keys, order = generated._sort_rows(ids, 37, ok)
    assert not ok.item() and keys[-2:].tolist() == [37, 37] and order[-2:].tolist() == [5, 2500]


@pytest.mark.parametrize(("case", "spoil"), [("gnn_mean", "dst_too_large"), ("gnn_mean", "negative_dst"),
                                             ("gnn_mean", "src_too_large"), ("mixed", "dst_too_large"),
                                             ("mixed", "negative_dst")])
def test_bad_ids_raise_like_the_reference(case: str, spoil: str) -> None:
    reference, generated = _built(case, False)
    generator = torch.Generator().manual_seed(5)
    inputs = [torch.randn(10, 6, generator=generator), torch.randint(0, 10, (30,), generator=generator),
              torch.randint(0, 10, (30,), generator=generator), torch.rand(30, generator=generator)]
    position, value = {"dst_too_large": (2, 10), "negative_dst": (2, -1), "src_too_large": (1, 10)}[spoil]
    inputs[position][7] = value
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        reference.Model()(*inputs)
    with pytest.raises(RuntimeError, match="outside the tensor"):
        generated.ModelNew()(*inputs)


def test_declines_what_it_does_not_generate() -> None:
    program = lower(trace_reference(reference_module("""
    class Model(nn.Module):
        def forward(self, x, src, dst, w):
            summed = torch.zeros_like(x)
            summed.index_add_(0, dst, x.index_select(0, src))
            return summed + x.index_add(1, src[:6], x)
    """, _INPUTS)))
    reasons = " | ".join(program.unsupported)
    assert len(program.unsupported) == 1  # the in-place index_add_ is lowered: its later reads read the update
    assert "index_add along a dim other than 0" in reasons
