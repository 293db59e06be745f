"""A GEMM, its epilogue and the reductions over its output rows as one Triton kernel: a schedule the search
may pick (under hybrid too), correct in every regime, and with tensor cores only where the regime allows."""

from __future__ import annotations

import functools
import textwrap

import pytest
import torch

from kevolve.eval_harness.precision import Precision, resolve
from kevolve.tools.offline.configs import GroupConfig, default_config, neighbours
from kevolve.tools.offline.engine import OfflineEngine
from kevolve.tools.offline.fusion import fuse
from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.module_source import module_source, read_configs
from kevolve.tools.offline.schedules import PLAIN, Schedule, read_schedule
from kevolve.tools.offline.tracing import trace_reference
from offline_helpers import assert_same, load

REFERENCE = textwrap.dedent("""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Model(nn.Module):
        def __init__(self, features, outputs):
            super().__init__()
            self.linear = nn.Linear(features, outputs)

        def forward(self, x, y):
            h = self.linear(x) * 0.5
            return (torch.logsumexp(h, dim=1), torch.softmax(torch.matmul(x, y), dim=-1),
                    torch.max(F.gelu(h), dim=1, keepdim=True).values)


    def get_inputs():
        return [torch.randn(20, 37), torch.randn(37, 19)]


    def get_init_inputs():
        return [37, 23]
    """)
# The looping form: slices of 32 columns, so 23 and 70 columns take one and three passes.
LOOPING = GroupConfig(rows=16, single_max=0, chunk=32, tile_k=16, warps=2)


@functools.cache
def _fused(regime: str):
    return fuse(lower(trace_reference(REFERENCE, dtype=resolve(Precision(regime)).dtype), gemm_in_triton=True,
                      vendor_fallback=True), gemm_reductions=True)


@pytest.mark.parametrize(("regime", "looping"), [("exact", False), ("exact", True), ("tf32", False), ("bf16", True)])
def test_a_gemm_and_its_row_reductions_are_one_kernel_in_every_regime(regime: str, looping: bool, tmp_path) -> None:
    mode = resolve(Precision(regime))
    fused = _fused(regime)
    assert [(g.kind, g.members[0].fn) for g in fused.groups] == [("gemm_reduction", "linear"),
                                                                  ("gemm_reduction", "matmul")]
    configs = {g.name: LOOPING if looping else default_config(g) for g in fused.groups}
    source = module_source(REFERENCE, fused, configs, "test", mode)
    precision = {"exact": 'input_precision="ieee"', "tf32": 'input_precision="tf32"', "bf16": "input_precision"}
    assert (precision[regime] in source) == (regime != "bf16")  # half operands go to tensor cores as they are
    reference = load(REFERENCE, tmp_path, f"ref_rows_{regime}_{looping}")
    candidate = load(source, tmp_path, f"gen_rows_{regime}_{looping}")
    for rows, inner in ((3, 70), (33, 19)):  # fewer rows than a tile, and more than two tiles of 16
        torch.manual_seed(rows)
        assert_same(reference, candidate, [37, 23], [torch.randn(rows, 37), torch.randn(37, inner)],
                    tol=5e-2 if regime == "bf16" else 1e-4, dtype=getattr(torch, mode.dtype.value))


def test_the_search_offers_the_fused_schedule_beside_the_plain_one_and_walks_within_each() -> None:
    engine = OfflineEngine()
    design = engine.design(REFERENCE, "hybrid")
    assert design.vendor_calls == ["torch.nn.functional.linear", "torch.matmul"]
    assert design.alternatives == [Schedule(gemm_reductions=True).label]
    # The two drafts, in the order the cost model ranks them.
    drafts = {read_schedule(p.source): p for p in (engine.propose(REFERENCE, "hybrid", [], set()) for _ in range(2))}
    draft, fused = drafts[PLAIN], drafts[Schedule(gemm_reductions=True)]
    assert "torch.nn.functional.linear(" in draft.source
    assert "torch.nn.functional.linear(" not in fused.source and "tl.dot(" in fused.source
    improved = engine.propose(REFERENCE, "hybrid", [fused.source], set())
    assert read_schedule(improved.source) == Schedule(gemm_reductions=True)
    step = next(iter(read_configs(improved.source).values()))
    assert step in neighbours(_fused("exact").groups[0], default_config(_fused("exact").groups[0]))


def test_a_program_without_a_reduced_gemm_has_no_other_schedule() -> None:
    reference = REFERENCE.replace("torch.logsumexp(h, dim=1)", "h").replace(
        "torch.softmax(torch.matmul(x, y), dim=-1)", "torch.matmul(x, y)").replace(
        "torch.max(F.gelu(h), dim=1, keepdim=True).values", "F.gelu(h)")
    assert OfflineEngine().design(reference, "hybrid").alternatives == []
