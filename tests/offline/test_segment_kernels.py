"""Embedding bags and segment reductions against PyTorch, on bounds the trace never saw, in the interpreter.

Each reference is traced once (its inputs need values, so on real CPU tensors); its generated module then runs on
fresh ids and lengths: empty segments, a single segment, one long segment among many short ones, widths that are
not a power of two and wider than one program's slice, with default configurations and neighbouring ones. Bad
input (an id outside the table, negative or decreasing offsets, lengths that do not add up) must raise, as the
reference does, rather than read out of bounds.
"""

from __future__ import annotations

import textwrap

import pytest
import torch

from kevolve.tools.offline.configs import GroupConfig, default_config, neighbours
from kevolve.tools.offline.module_source import module_source
from offline_helpers import fused_program, load

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
# A program per segment pair, 4 rows a step, 32 columns a program: loops, several column slices, a dead segment.
SPLIT = GroupConfig(rows=2, chunk=4, tile_n=32, warps=2)


def _reference(model: str, inputs: str) -> str:
    """A problem whose inputs are built from lengths (`int(lengths.sum())`): the meta device cannot trace it."""
    return HEADER + textwrap.dedent(model) + textwrap.dedent(f"""

    def get_inputs():
        torch.manual_seed(3)
        lengths = torch.randint(0, 5, (6,))
        total = int(lengths.sum())
        return {inputs}


    def get_init_inputs():
        return [50, 12]
    """)


BAG = """
class Model(nn.Module):
    def __init__(self, rows, dim):
        super().__init__()
        self.bag = nn.EmbeddingBag(rows, dim, mode={mode!r}{extra})

    def forward(self, ids, offsets{weights_param}):
        return torch.relu(self.bag(ids, offsets{weights_arg})) * 2.0
"""
FUNCTIONAL_FIXED = """
class Model(nn.Module):
    def __init__(self, rows, dim):
        super().__init__()
        self.table = nn.Parameter(torch.randn(rows, dim))

    def forward(self, ids):
        return F.embedding_bag(ids, self.table, mode="max")
"""
SEGMENT = """
class Model(nn.Module):
    def __init__(self, rows, dim):
        super().__init__()

    def forward(self, values, bounds):
        return torch.segment_reduce(values, {reduce!r}, {how}=bounds, axis=0{initial})
"""

CASES = {
    "bag_sum_weighted": _reference(BAG.format(mode="sum", extra="", weights_param=", weights",
                                              weights_arg=", per_sample_weights=weights"),
                                   "[torch.randint(0, 50, (total,)), torch.cumsum(lengths, 0) - lengths, "
                                   "torch.rand(total)]"),
    "bag_mean_padding_last_offset": _reference(
        BAG.format(mode="mean", extra=", padding_idx=3, include_last_offset=True", weights_param="", weights_arg=""),
        "[torch.randint(0, 50, (total,)), torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(lengths, 0)])]"),
    "bag_max_int32": _reference(BAG.format(mode="max", extra="", weights_param="", weights_arg=""),
                                "[torch.randint(0, 50, (total,), dtype=torch.int32), "
                                "(torch.cumsum(lengths, 0) - lengths).int()]"),
    "bag_fixed_max": _reference(FUNCTIONAL_FIXED, "[torch.randint(0, 50, (6, 3))]"),
    "segment_sum_lengths": _reference(SEGMENT.format(reduce="sum", how="lengths", initial=""),
                                      "[torch.randn(total, 12), lengths]"),
    "segment_mean_lengths": _reference(SEGMENT.format(reduce="mean", how="lengths", initial=""),
                                       "[torch.randn(total, 12), lengths]"),
    "segment_max_offsets": _reference(SEGMENT.format(reduce="max", how="offsets", initial=""),
                                      "[torch.randn(total, 12), torch.cat([torch.zeros(1, dtype=torch.long), "
                                      "torch.cumsum(lengths, 0)])]"),
    "segment_min_initial": _reference(SEGMENT.format(reduce="min", how="lengths", initial=", initial=0.5"),
                                      "[torch.randn(total, 12), lengths]"),
}


def _lengths(kind: str, segments: int, generator: torch.Generator) -> torch.Tensor:
    if kind == "skewed":  # one long segment among many short ones, and empty ones
        lengths = torch.randint(0, 3, (segments,), generator=generator)
        lengths[segments // 2] = 97
        return lengths
    if kind == "single":
        return torch.tensor([23])
    if kind == "empty":
        return torch.zeros(segments, dtype=torch.long)
    return torch.randint(0, 9, (segments,), generator=generator)


def _inputs(case: str, lengths: torch.Tensor, rows: int, dim: int, generator: torch.Generator) -> list:
    total = int(lengths.sum())
    ends = torch.cumsum(lengths, 0)
    starts, closed = ends - lengths, torch.cat([torch.zeros(1, dtype=torch.long), ends])
    ids = torch.randint(0, rows, (total,), generator=generator)
    if case == "bag_sum_weighted":
        return [ids, starts, torch.rand(total, generator=generator)]
    if case == "bag_mean_padding_last_offset":
        return [ids, closed]
    if case == "bag_max_int32":
        return [ids.int(), starts.int()]
    if case == "bag_fixed_max":
        return [torch.randint(0, rows, (len(lengths), 5), generator=generator)]
    values = torch.randn(total, dim, generator=generator)
    if total:  # a NaN in a segment is its sum, mean and max, as PyTorch gives
        values[total // 2, dim // 3] = float("nan")
    return [values, closed if "offsets" in case else lengths]


def _built(case: str, config: GroupConfig | None, tmp_path, name: str):
    reference = CASES[case]
    fused = fused_program(reference)
    assert fused.groups[0].kind == "segment"
    configs = {g.name: config if config is not None and g.kind == "segment" else default_config(g)
               for g in fused.groups}
    return load(reference, tmp_path, f"ref_{name}"), load(module_source(reference, fused, configs, "test"),
                                                           tmp_path, f"gen_{name}")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("lengths_kind", ["uniform", "skewed", "single", "empty"])
def test_segment_kernels_match_pytorch(case: str, lengths_kind: str, tmp_path) -> None:
    rows, dim = 50, 70  # wider than SPLIT's 32-column slice, and not a power of two
    for config_name, config in (("default", None), ("split", SPLIT)):
        reference, generated = _built(case, config, tmp_path, f"{case}_{lengths_kind}_{config_name}")
        torch.manual_seed(0)
        model = reference.Model(rows, dim)
        candidate = generated.ModelNew(rows, dim)
        candidate.load_state_dict(model.state_dict())
        generator = torch.Generator().manual_seed(11)
        inputs = _inputs(case, _lengths(lengths_kind, 9, generator), rows, dim, generator)
        want, got = model(*inputs), candidate(*inputs)
        assert got.shape == want.shape and got.dtype == want.dtype
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5, equal_nan=True)


def test_the_search_walks_segment_settings() -> None:
    fused = fused_program(CASES["bag_sum_weighted"])
    group = fused.groups[0]
    moved = {key for option in neighbours(group, default_config(group))
             for key, value in option.model_dump().items() if value != getattr(default_config(group), key)}
    assert moved == {"rows", "chunk", "tile_n", "warps"}


@pytest.mark.parametrize(("case", "spoil"), [
    ("bag_sum_weighted", "id_too_large"), ("bag_sum_weighted", "negative_id"), ("bag_sum_weighted", "negative_offset"),
    ("bag_sum_weighted", "decreasing_offsets"), ("bag_sum_weighted", "offset_past_end"),
    ("segment_sum_lengths", "lengths_short"), ("segment_sum_lengths", "negative_length"),
])
def test_bad_bounds_and_ids_raise_like_the_reference(case: str, spoil: str, tmp_path) -> None:
    reference, generated = _built(case, None, tmp_path, f"bad_{case}_{spoil}")
    torch.manual_seed(0)
    model = reference.Model(50, 12)
    candidate = generated.ModelNew(50, 12)
    candidate.load_state_dict(model.state_dict())
    generator = torch.Generator().manual_seed(5)
    inputs = _inputs(case, torch.tensor([3, 0, 4, 2]), 50, 12, generator)
    if spoil == "id_too_large":
        inputs[0][2] = 50
    elif spoil == "negative_id":
        inputs[0][0] = -1
    elif spoil == "negative_offset":
        inputs[1][1] = -2
    elif spoil == "decreasing_offsets":
        inputs[1][1], inputs[1][2] = 7, 3
    elif spoil == "offset_past_end":
        inputs[1][3] = 40
    elif spoil == "lengths_short":
        inputs[1] = torch.tensor([3, 0, 4, 1])
    else:
        inputs[1] = torch.tensor([3, -1, 5, 2])
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        model(*inputs)
    with pytest.raises(RuntimeError, match=r"outside the table|bounds"):
        candidate(*inputs)
