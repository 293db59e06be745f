"""torch.topk, gathers at its indices and a mixture-of-experts router against PyTorch, in the interpreter.

Each reference is traced once and its generated module run on shapes it was not traced with: k = 1, k = the row
length, rows that are not a multiple of the rows a program takes, the largest and the smallest, a dim other than the
last. Ties and NaNs are where PyTorch leaves the order unspecified (its CPU kernel gives neither the first nor the last
of equal values first): there the values are compared, and the indices must pick exactly those values, each once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from kevolve.tools.offline.configs import default_config, neighbours
from kevolve.tools.offline.lowering import lower
from kevolve.tools.offline.traced import TracedProgram
from offline_helpers import assert_same, candidate_source, fused_program, load, reference_module

PROBLEMS = Path(__file__).resolve().parents[2] / "eval_harness" / "problems"

# Two selections, so that one trace covers both orders and a middle dim as well as the last, and gathers at the
# first's indices from a row computed in its kernel and from one it reads, scaled per row (`gain`, read by the same
# kernel), and a reduced and a full output before the picked ones (the forward unpacks them in the order the launcher
# returns them). k is the model's (the kernel takes it at run time); the dim and `largest` choose the kernel's code.
TOPK = reference_module("""
    class Model(nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k

        def forward(self, x, gain):
            scores = x * 2.0
            peak = scores.amax(-1, keepdim=True)
            centred = scores - peak
            weighted = scores.sigmoid() * x
            values, indices = torch.topk(scores, self.k, dim=-1)
            picked = torch.gather(weighted, -1, indices) + torch.gather(x, 2, indices)
            smallest = x.topk(self.k, dim=1, largest=False)
            return values + 1.0, indices, picked * values * gain, smallest.values, smallest.indices, peak, centred
    """, "[torch.randn(2, 6, 6), torch.randn(6, 1)]", "[3]")


def _run(reference: str, init: list, inputs: list, tmp_path: Path, name: str) -> tuple:
    fused = fused_program(reference)
    module = load(candidate_source(reference, fused, looping=False), tmp_path, f"gen_{name}")
    torch.manual_seed(0)
    return module.ModelNew(*init)(*inputs)


@pytest.mark.parametrize(("shape", "k"), [
    ((3, 37, 11), 3),  # rows not a multiple of a program's
    ((5, 6, 7), 1),
    ((4, 5, 5), 5),  # k = the row's length
    ((2, 17, 16), 16),
])
def test_topk_matches_pytorch(shape: tuple, k: int, tmp_path: Path) -> None:
    groups = fused_program(TOPK).groups  # the gathers and what follows them are in their selection's kernel
    assert [(g.kind, len(g.selections()), len(g.outputs)) for g in groups] == [("reduction", 2, 5), ("reduction", 2, 2)]
    name = f"topk_{k}"
    module = load(candidate_source(TOPK, fused_program(TOPK), looping=False), tmp_path, f"gen_{name}")
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(k))
    gain = torch.randn(shape[1], 1, generator=torch.Generator().manual_seed(k))
    assert_same(load(TOPK, tmp_path, f"ref_{name}"), module, [k], [x, gain])


def test_ties_and_nans_pick_what_pytorch_picks(tmp_path: Path) -> None:
    """Equal values are taken first index first; NaN is larger than any number, +-inf included."""
    pattern = torch.tensor([1.0, 3.0, 3.0, 2.0, 3.0, float("nan"), 0.5, float("nan"), float("-inf"), float("inf")])
    rows = torch.stack([pattern.roll(i) for i in range(10)])  # each row and each column a rotation of the pattern
    x = torch.stack([rows, torch.zeros(10, 10), rows.nan_to_num(nan=2.0).round()])
    k = 6
    outputs = _run(TOPK, [k], [x / 2.0, torch.ones(10, 1)], tmp_path, "ties")
    largest, largest_at, _, smallest, smallest_at = outputs[:5]
    for values, at, dim, biggest in ((largest - 1.0, largest_at, 2, True), (smallest * 2.0, smallest_at, 1, False)):
        torch.testing.assert_close(values, torch.topk(x, k, dim=dim, largest=biggest).values, equal_nan=True)
        torch.testing.assert_close(x.gather(dim, at), values, equal_nan=True)
        assert (at.sort(dim=dim).values.diff(dim=dim) > 0).all()  # each picked once
    assert largest_at[0, 0, :4].tolist() == [5, 7, 9, 1] and largest_at[1, 0].tolist() == list(range(k))
    assert smallest_at[1, :, 0].tolist() == list(range(k))


@pytest.mark.parametrize(("tokens", "experts", "k"), [(37, 7, 2), (1, 8, 1), (20, 5, 5)])
def test_moe_router_is_one_kernel(tokens: int, experts: int, k: int, tmp_path: Path) -> None:
    """Softmax, top-k, the gather and the renormalisation: one kernel writing only the weights and the ids."""
    reference = (PROBLEMS / "recsys_moe_top2_routing.py").read_text()
    groups = fused_program(reference).groups
    assert len(groups) == 1 and groups[0].selections() and len(groups[0].outputs) == 2
    name = f"moe_{tokens}_{experts}_{k}"
    module = load(candidate_source(reference, fused_program(reference), looping=False), tmp_path, f"gen_{name}")
    logits = torch.randn(tokens, experts, generator=torch.Generator().manual_seed(tokens))
    assert_same(load(reference, tmp_path, f"ref_{name}"), module, [k], [logits])


def test_the_search_walks_rows_and_warps_only() -> None:
    """A selection holds whole rows, so slices' sizes and the on-chip limit are no choice of its."""
    group = fused_program((PROBLEMS / "recsys_moe_top2_routing.py").read_text()).groups[0]
    moved = {key for config in neighbours(group, default_config(group)) for key in config.model_dump()
             if config.model_dump()[key] != default_config(group).model_dump()[key]}
    assert moved == {"rows", "warps"}


def test_k_beyond_the_row_raises_as_pytorch_does(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        _run(TOPK, [8], [torch.randn(3, 9, 7), torch.ones(9, 1)], tmp_path, "too_many")


@pytest.mark.parametrize(("width", "k", "kwargs", "why"), [
    (32, 17, {}, "with k > 16"),
    (32, 2, {"sorted": {"const": False}}, "with sorted=False"),
    (16385, 2, {}, "over rows longer than 16384"),
])
def test_declines_name_the_reason(width: int, k: int, kwargs: dict, why: str) -> None:
    """What the tracer reports for `torch.topk(x, k, **kwargs).values` (a trace of its own would take a tracing
    process's start)."""
    traced = TracedProgram.model_validate({
        "inputs": ["x"], "input_meta": {"x": {"shape": [4, width], "dtype": "torch.float32"}},
        "nodes": [{"name": "topk", "op": "topk", "args": [{"node": "x"}, {"const": k}], "kwargs": kwargs},
                  {"name": "getattr_1", "op": "getattr", "args": [{"node": "topk"}, {"const": "values"}],
                   "meta": {"shape": [4, k], "dtype": "torch.float32"}}],
        "output": {"node": "getattr_1"}})
    assert why in " ".join(lower(traced).unsupported)
