"""Split reductions: a reduction group whose few kept rows cannot fill the device shares each row among several
programs, and a later kernel combines their partials. Checked against PyTorch in Triton's interpreter over random
shapes (one element per row, one row, sizes no block divides), in fp32 and bf16, and offered by the engine only
where the traced shape has few kept rows and long ones."""

from __future__ import annotations

import random

import pytest
import torch

from kevolve.eval_harness.precision import Precision, resolve
from kevolve.hardware_specs import load_spec
from kevolve.tools.offline.configs import GroupConfig, default_config, neighbours
from kevolve.tools.offline.engine import OfflineEngine
from kevolve.tools.offline.fusion_groups import FusedProgram, FusionGroup
from kevolve.tools.offline.module_source import module_source, read_configs
from kevolve.tools.offline.schedules import PLAIN, Schedule, read_schedule
from kevolve.tools.offline.split_reduction import MIN_SPAN, default_splits, extent, plan, splittable
from offline_helpers import FEW_ROWS, MANY_ROWS, assert_same, fused_program, load, reference_module

SPLIT = Schedule(split_reductions=True)
H100_SMS = load_spec("h100_sxm").sm_count
ROW_REDUCTIONS = reference_module("""
    class Model(nn.Module):
        def forward(self, x):
            return (x.sum(-1), x.mean(dim=-1, keepdim=True), x.amax(-1), torch.amin(x, dim=1), x.var(-1, correction=0),
                    torch.softmax(x, dim=-1), x.mean(), torch.logsumexp(x, dim=1))
    """, "[torch.randn(4, 3000)]")
NORMS = reference_module("""
    class Model(nn.Module):
        def __init__(self, channels, groups):
            super().__init__()
            self.group = nn.GroupNorm(groups, channels)
            self.batch = nn.BatchNorm2d(channels)
            self.instance = nn.InstanceNorm2d(channels, affine=True)

        def forward(self, x):
            return F.silu(self.group(x)), self.batch(x) * 2.0, self.instance(x), x.mean(), F.mse_loss(x, x * 0.5)
    """, "[torch.randn(4, 6, 32, 32)]", "[6, 3]")


def _split_source(reference: str, fused: FusedProgram, config: GroupConfig, regime: str = "exact") -> str:
    """Every group that can be split, split with `config`; the others at their defaults."""
    configs = {g.name: config if splittable(g) else default_config(g) for g in fused.groups}
    source = module_source(reference, fused, configs, "test", resolve(Precision(regime)), SPLIT)
    assert "_partial0[grid]" in source and "_loop[grid]" not in source
    return source


# Slices of 16 and a handful of splits: rows of 1 to a few hundred elements take several splits of several
# slices, with ragged last ones; `rows` 2 and 3 kept rows per program leave a ragged last row block.
CONFIGS = [GroupConfig(rows=2, chunk=16, splits=4, warps=2), GroupConfig(rows=1, chunk=32, splits=3, warps=1),
           GroupConfig(rows=4, chunk=64, splits=64, warps=4)]


def _random_shapes(seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    return [(1, 1), (5, 1), (1, 301), (1, 2)] + [(rng.randint(1, 9), rng.randint(2, 400)) for _ in range(3)]


@pytest.mark.parametrize(("config", "regime", "tol"), [(CONFIGS[0], "exact", 1e-4), (CONFIGS[1], "exact", 1e-4),
                                                      (CONFIGS[2], "exact", 1e-4), (CONFIGS[1], "bf16", 5e-2)],
                         ids=["rows2", "rows1", "many_splits", "rows1_bf16"])
def test_split_row_reductions_match_pytorch_over_random_shapes(config: GroupConfig, regime: str, tol: float,
                                                                tmp_path) -> None:
    mode = resolve(Precision(regime))
    fused = fused_program(ROW_REDUCTIONS, dtype=mode.dtype)
    assert all(splittable(g) for g in fused.groups if g.reduced_dims)
    reference = load(ROW_REDUCTIONS, tmp_path, f"ref_split_rows_{regime}")
    candidate = load(_split_source(ROW_REDUCTIONS, fused, config, regime), tmp_path,
                     f"gen_split_rows_{config.splits}_{regime}")
    for seed, (rows, length) in enumerate(_random_shapes(config.splits)):
        torch.manual_seed(seed)
        assert_same(reference, candidate, [], [torch.randn(rows, length)], tol=tol,
                    dtype=getattr(torch, mode.dtype.value))


def test_a_nan_reaches_every_split_reductions_result_as_in_pytorch(tmp_path) -> None:
    fused = fused_program(ROW_REDUCTIONS)
    reference = load(ROW_REDUCTIONS, tmp_path, "ref_split_nan")
    candidate = load(_split_source(ROW_REDUCTIONS, fused, CONFIGS[0]), tmp_path, "gen_split_nan")
    x = torch.randn(3, 300)
    x[1, 170] = float("nan")  # in the second row's third split
    for want, got in zip(reference.Model()(x), candidate.ModelNew()(x), strict=True):
        torch.testing.assert_close(got, want, equal_nan=True)


@pytest.mark.parametrize(("regime", "tol"), [("exact", 1e-4), ("bf16", 5e-2)])
def test_split_norms_match_pytorch(regime: str, tol: float, tmp_path) -> None:
    """Batch norm (training-mode statistics), instance and group norm, a whole-tensor mean and a mean loss."""
    mode = resolve(Precision(regime))
    fused = fused_program(NORMS, dtype=mode.dtype)
    reference = load(NORMS, tmp_path, f"ref_split_norms_{regime}")
    candidate = load(_split_source(NORMS, fused, CONFIGS[0], regime), tmp_path, f"gen_split_norms_{regime}")
    for seed, shape in enumerate([(2, 6, 5, 7), (1, 6, 1, 3), (3, 6, 9, 13)]):
        torch.manual_seed(seed)
        assert_same(reference, candidate, [6, 3], [torch.randn(*shape)], tol=tol,
                    dtype=getattr(torch, mode.dtype.value))


def test_a_variance_far_from_zero_keeps_its_digits(tmp_path) -> None:
    """Welford and Chan: E[x^2] - E[x]^2 in fp32 would lose every digit of a unit variance around 1e4."""
    source = reference_module("""
        class Model(nn.Module):
            def forward(self, x):
                return x.var(dim=-1)
        """, "[torch.randn(2, 5000)]")
    fused = fused_program(source)
    reference = load(source, tmp_path, "ref_split_far")
    candidate = load(_split_source(source, fused, CONFIGS[2]), tmp_path, "gen_split_far")
    torch.manual_seed(0)
    assert_same(reference, candidate, [], [1e4 + torch.randn(3, 4999)], tol=1e-3)


def test_a_variance_is_one_pass_and_a_softmax_two() -> None:
    norm, *_ = fused_program(NORMS).groups
    stages = plan(norm)
    assert len(stages.levels) == 1 and len(stages.levels[0]) == 2 and len(stages.variance) == 1
    (softmax,) = fused_program(reference_module("""
        class Model(nn.Module):
            def forward(self, x):
                return torch.softmax(x, dim=-1)
        """, "[torch.randn(4, 3000)]")).groups
    fns = {m.name: m.fn for m in softmax.members}
    assert [[fns[name] for name in level] for level in plan(softmax).levels] == [["amax"], ["sum"]]


def test_the_engine_offers_split_reductions_where_few_rows_cannot_fill_the_device(tmp_path) -> None:
    engine = OfflineEngine()
    assert engine.design(FEW_ROWS, "hybrid").alternatives == [SPLIT.label]
    assert engine.design(MANY_ROWS, "hybrid").alternatives == []
    # With one SM, eight channels fill the device: nothing to split.
    assert engine.design(FEW_ROWS, "hybrid", device="cpu_interpreter").alternatives == []
    proposals = [engine.propose(FEW_ROWS, "hybrid", [], set()) for _ in range(2)]
    split = next(p for p in proposals if read_schedule(p.source) == SPLIT)
    assert {read_schedule(p.source) for p in proposals} == {PLAIN, SPLIT}
    (config,) = [c for c in read_configs(split.source).values() if c.splits]
    assert config.splits >= 2 and config.rows == 1
    # The walk moves the number of splits, among the group's other settings.
    step = engine.propose(FEW_ROWS, "hybrid", [split.source], set())
    assert read_schedule(step.source) == SPLIT
    group = fused_program(FEW_ROWS).groups[0]
    assert {c.splits for c in neighbours(group, config)} >= {config.splits // 2, config.splits * 2}
    # The proposal computes the reference at shapes it was not traced with.
    reference = load(FEW_ROWS, tmp_path, "ref_split_engine")
    candidate = load(split.source, tmp_path, "gen_split_engine")
    torch.manual_seed(0)
    assert_same(reference, candidate, [8], [torch.randn(3, 8, 5, 7)])


def test_bf16_split_proposals_from_the_engine_match_pytorch(tmp_path) -> None:
    mode = resolve(Precision("bf16"))
    engine = OfflineEngine()
    sources = [engine.propose(FEW_ROWS, "hybrid", [], set(), mode).source for _ in range(2)]
    split = next(s for s in sources if read_schedule(s) == SPLIT)
    reference = load(FEW_ROWS, tmp_path, "ref_split_engine_bf16")
    candidate = load(split, tmp_path, "gen_split_engine_bf16")
    torch.manual_seed(1)
    assert_same(reference, candidate, [8], [torch.randn(2, 8, 9, 11)], tol=5e-2, dtype=torch.bfloat16)


@pytest.mark.parametrize(("shape", "reduced", "rows"), [((100000, 64), (0,), 32), ((16, 8, 4096), (0, 2), 1),
                                                        ((8, 2**22), (1,), 1)])
def test_default_splits_are_a_power_of_two_of_at_least_min_span_each(shape: tuple[int, ...], reduced: tuple[int, ...],
                                                                     rows: int) -> None:
    group = FusionGroup(index=0, shape=shape, reduced_dims=reduced)
    splits = default_splits(group, rows, H100_SMS)
    assert splits >= 2 and splits & (splits - 1) == 0  # on the grid the walk steps along
    assert splits * MIN_SPAN <= extent(group)
