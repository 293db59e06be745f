"""A loop over an nn.ModuleList is unrolled by tracing and rolled back up in the generated forward: from the first
module whose block matches every later one, the forward loops over the container with each kernel written once,
so one module serves any depth. A container whose blocks differ keeps its traced length, checked by name."""

from __future__ import annotations

import pytest
import torch

from kevolve.tools.offline.loop_rolling import roll_loops
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module


def _modules(source: str, fused, folder, name: str):
    """The reference and the generated module, loaded."""
    return load(source, folder, f"{name}_reference"), load(candidate_source(source, fused, looping=False), folder,
                                                          f"{name}_candidate")


STACKED = reference_module("""
    class Model(nn.Module):
        def __init__(self, width, depth):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
            self.tail = nn.Sequential(nn.ReLU(), nn.Linear(width, 4))

        def forward(self, x):
            x0 = x
            for layer in self.layers:
                x = torch.tanh(layer(x)) * x0 + x
            return self.tail(x), x
    """, "[torch.randn(5, 12)]", "[12, 4]")


def test_a_stack_of_layers_is_one_loop_that_serves_any_depth(tmp_path) -> None:
    fused = roll_loops(fused_program(STACKED))
    assert fused.loop is not None and (fused.loop.containers, fused.loop.first, fused.loop.runs) == (("layers",), 1, 2)
    assert len(fused.groups) == 3  # the first layer's, the loop's, the tail's ReLU
    assert fused.program.unrolled == {"tail": 2}
    assert "len(self.tail) = 2 (its loop unrolled)" in fused.program.kept_at_trace
    reference, candidate = _modules(STACKED, fused, tmp_path, "stacked")
    for depth in (2, 3, 5):
        assert_same(reference, candidate, [12, depth], [torch.randn(7, 12)])
    with pytest.raises(ValueError, match=r"at least 2 modules in self\.layers; this model has 1"):
        candidate.ModelNew(12, 1)(torch.randn(7, 12))


# Each block reads the block two before it: no loop carries that, so nothing is rolled and the depth is checked.
SKIPPING = reference_module("""
    class Model(nn.Module):
        def __init__(self, width, depth):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

        def forward(self, x):
            before, x = x, torch.relu(self.layers[0](x))
            for layer in self.layers[1:]:
                before, x = x, torch.relu(layer(x)) + before
            return x
    """, "[torch.randn(5, 12)]", "[12, 4]")


def test_blocks_that_read_further_back_keep_the_traced_depth(tmp_path) -> None:
    fused = roll_loops(fused_program(SKIPPING))
    assert fused.loop is None and fused.program.unrolled == {"layers": 4}
    reference, candidate = _modules(SKIPPING, fused, tmp_path, "skipping")
    assert_same(reference, candidate, [12, 4], [torch.randn(7, 12)])
    with pytest.raises(ValueError, match=r"for 4 modules in self\.layers; this model has 3"):
        candidate.ModelNew(12, 3)(torch.randn(7, 12))


# A loop that walks two containers in step: one loop over both, their reads indexed together.
ZIPPED = reference_module("""
    class Model(nn.Module):
        def __init__(self, width, depth):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
            self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))

        def forward(self, x):
            for layer, norm in zip(self.layers, self.norms):
                x = x + torch.relu(layer(norm(x)))
            return x
    """, "[torch.randn(5, 12)]", "[12, 4]")


def test_containers_walked_together_are_one_loop(tmp_path) -> None:
    fused = roll_loops(fused_program(ZIPPED))
    assert fused.loop is not None and set(fused.loop.containers) == {"layers", "norms"}
    reference, candidate = _modules(ZIPPED, fused, tmp_path, "zipped")
    for depth in (3, 6):
        assert_same(reference, candidate, [12, depth], [torch.randn(7, 12)])


# One module per feature table, each taking its own row of the ids, the results side by side (a DLRM sparse arch).
PER_TABLE = reference_module("""
    class Model(nn.Module):
        def __init__(self, tables, rows, dim):
            super().__init__()
            self.tables = nn.ModuleList(nn.Embedding(rows, dim) for _ in range(tables))

        def forward(self, ids, scale):
            return torch.cat([table(ids[t]) * scale for t, table in enumerate(self.tables)], dim=1)
    """, "[torch.randint(0, 50, (4, 9)), torch.randn(9, 1)]", "[4, 50, 6]")


def test_results_of_every_module_are_collected_and_joined_at_any_depth(tmp_path) -> None:
    fused = roll_loops(fused_program(PER_TABLE))
    loop = fused.loop
    assert loop is not None and (loop.containers, loop.first, loop.runs) == (("tables",), 0, 4)
    assert loop.inputs and len(loop.collected) == 1
    assert len(fused.groups) == 1, "one kernel for every table; the join is copies, not a kernel per depth"
    assert fused.program.unrolled == {}
    reference, candidate = _modules(PER_TABLE, fused, tmp_path, "per_table")
    for tables in (1, 2, 4, 7):
        assert_same(reference, candidate, [tables, 50, 6], [torch.randint(0, 50, (tables, 9)), torch.randn(9, 1)])
    # More id rows than tables: each table still reads its own row, as the reference's `ids[t]` does.
    assert_same(reference, candidate, [3, 50, 6], [torch.randint(0, 50, (5, 9)), torch.randn(9, 1)])


# The block reads the ids row of the *next* table: not its own part, so it does not match as `ids[@index]`.
SHIFTED = reference_module("""
    class Model(nn.Module):
        def __init__(self, tables, rows, dim):
            super().__init__()
            self.tables = nn.ModuleList(nn.Embedding(rows, dim) for _ in range(tables))

        def forward(self, ids):
            return torch.cat([table(ids[t + 1]) for t, table in enumerate(self.tables)], dim=1)
    """, "[torch.randint(0, 50, (4, 9))]", "[3, 50, 6]")


def test_a_block_reading_another_modules_part_keeps_the_traced_depth(tmp_path) -> None:
    fused = roll_loops(fused_program(SHIFTED))
    assert fused.loop is None and fused.program.unrolled == {"tables": 3}
    reference, candidate = _modules(SHIFTED, fused, tmp_path, "shifted")
    assert_same(reference, candidate, [3, 50, 6], [torch.randint(0, 50, (4, 9))])
    with pytest.raises(ValueError, match=r"3 modules in self\.tables; this model has 2"):
        candidate.ModelNew(2, 50, 6)(torch.randint(0, 50, (4, 9)))
