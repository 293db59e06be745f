"""Launch configurations of the generated kernels, and the neighbours the search walks between.

One `GroupConfig` per fusion group. A reduction holds its whole reduced extent in registers when
it is at most `single_max` long (one read of the input), else it loops over `chunk`-wide slices,
reading its input once per reduction it computes; a pool loops over its window one tap at a time. A GEMM
whose rows are reduced takes `rows` rows of the product per program, `tile_k` of the inner dim per step, and
the whole row on chip up to `single_max` columns (beyond, each pass multiplies again). A segment reduction
(an embedding bag, a jagged sum) takes `rows` segments per program, `chunk` of a segment's rows per step and
`tile_n` of the row width. A split reduction (split_reduction.py) shares each row's extent among `splits`
programs, each looping over `chunk`-wide slices of its part. The harness's verdicts, not these defaults, decide
which configuration wins.
"""

from __future__ import annotations

from itertools import product

from pydantic import BaseModel, ConfigDict, Field

from .fusion_groups import FusionGroup
from .split_reduction import MAX_SPLITS, default_splits, worth_splitting

_BLOCKS = (256, 512, 1024, 2048, 4096)
_WARPS = (1, 2, 4, 8, 16)
_ROWS = (1, 2, 4, 8, 16, 32, 64)
_CHUNKS = (64, 128, 256, 512, 1024, 2048, 4096)
_SINGLE = (0, 1024, 4096, 8192, 16384, 32768)
_TILES = (16, 32, 64, 128, 256)
_STAGES = (1, 2, 3, 4, 5)
_TAP_ROWS = (128, 256, 512, 1024, 2048)
# A GEMM with its row reduction: tl.dot needs 16 or more in each dim of a tile.
_GEMM_ROWS = (16, 32, 64, 128)
_GEMM_ROW_SINGLE = (0, 256, 512, 1024, 2048)
_GEMM_ROW_CHUNKS = (32, 64, 128, 256)
# A segment reduction: segments per program, rows per step, and the slice of the row width a program takes.
_SEGMENTS = (1, 2, 4, 8)
_SEGMENT_CHUNKS = (4, 8, 16, 32, 64)
_SEGMENT_WIDTHS = (32, 64, 128, 256, 512)
_SPLITS = tuple(1 << i for i in range(1, MAX_SPLITS.bit_length()))


class GroupConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    block: int = Field(default=1024, description="pointwise: elements per program")
    rows: int = Field(default=1, description="reduction: kept rows per program; segment: segments per program")
    single_max: int = Field(default=16384, description="reduction: the longest extent reduced in registers")
    chunk: int = Field(default=1024, description="reduction: slice width when looping; segment: rows per step")
    warps: int = 4
    tile_m: int = Field(default=64, description="GEMM: output rows per program")
    tile_n: int = Field(default=64, description="GEMM: output columns per program; segment: row width per program")
    tile_k: int = Field(default=32, description="GEMM: reduction slice per step")
    stages: int = Field(default=3, description="GEMM: software-pipelining depth")
    group_m: int = Field(default=8, description="GEMM: row tiles per band, for L2 reuse of the other operand")
    splits: int = Field(default=0, description="reduction: programs that share each row's extent (0: not split)")


def _contiguous_reduction(group: FusionGroup) -> bool:
    return group.reduced_dims == tuple(range(len(group.shape) - len(group.reduced_dims), len(group.shape)))


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def default_config(group: FusionGroup) -> GroupConfig:
    """A sound first guess from the traced shape: enough work per program, a row's reduction on chip."""
    if group.kind == "pointwise" and group.scattered():
        # An atomic scatter takes `block` elements a program; sorted (sorted_scatter_source.py), a program takes an
        # output row's slice of `tile_n` columns, `chunk` of its rows at a time.
        return GroupConfig(block=1024, warps=4, chunk=16, tile_n=64)
    if group.kind == "pointwise":
        return GroupConfig(block=1024, warps=4)
    if group.kind == "gemm":
        return GroupConfig(tile_m=64, tile_n=64, tile_k=32, stages=3, warps=4, group_m=8)
    if group.kind == "segment":
        # One segment a program, its rows 16 at a time across a 128-wide slice of the row: a bag's ids are few
        # and its rows scattered, so many programs in flight hide the latency of the dependent loads.
        return GroupConfig(rows=1, chunk=16, tile_n=128, warps=4)
    if group.kind == "pairwise":
        # A sample's whole product up to 64 x 64 pairs in one program (recommendation models have a few dozen
        # features), its features 32 at a time along the dot products.
        return GroupConfig(tile_m=64, tile_n=64, tile_k=32, warps=4)
    if group.kind == "gemm_reduction":
        # A 32-row tile of a 1024-column row is 32K fp32 accumulators: 8 warps keep them in registers.
        return GroupConfig(rows=32, single_max=1024, chunk=128, tile_k=32, warps=8)
    if group.window_members():
        # A pool: one tap per step over many outputs. A window's few taps padded to a power of two would
        # waste lanes, and each tap is one vector load; neighbouring windows' shared inputs come from cache.
        return GroupConfig(rows=512, single_max=0, chunk=1, warps=4)
    extent = 1
    for d in group.reduced_dims:
        extent *= group.shape[d]
    if not _contiguous_reduction(group):
        # The reduced dim is strided: many kept rows per program make the loads along the kept dims coalesce.
        return GroupConfig(rows=32, single_max=0, chunk=32, warps=4)
    width = min(_next_pow2(extent), 16384)
    return GroupConfig(rows=max(1, min(16, 2048 // width)), single_max=16384, chunk=2048,
                       warps=max(1, min(16, width // 512)))


def default_configs(groups: list[FusionGroup], split: bool, sm_count: int) -> dict[str, GroupConfig]:
    """Every group's first guess; with `split` (the split-reduction schedule), groups with too few kept rows to
    fill `sm_count` SMs split their rows, each program looping over slices along the fastest dim."""
    configs = {g.name: default_config(g) for g in groups}
    for g in groups:
        if split and worth_splitting(g, sm_count):
            along_rows = len(g.shape) - 1 in g.reduced_dims
            base = configs[g.name].model_copy(update={"rows": 1, "chunk": 1024, "warps": 4} if along_rows else {})
            configs[g.name] = base.model_copy(update={"splits": default_splits(g, base.rows, sm_count)})
    return configs


def neighbours(group: FusionGroup, config: GroupConfig, sorted_scatter: bool = False) -> list[GroupConfig]:
    """Configurations one step away, nearest first: the plateau rule ends the walk. `sorted_scatter`: the group
    is written in its sorted form (sorted_scatter_source.py), which takes rows and columns in tiles."""
    def step(values: tuple[int, ...], current: int) -> list[int]:
        if current not in values:
            return [values[len(values) // 2]]
        i = values.index(current)
        return [values[j] for j in (i - 1, i + 1) if 0 <= j < len(values)]

    if group.kind == "gemm":
        moves = [{"tile_m": t} for t in step(_TILES, config.tile_m)]
        moves += [{"tile_n": t} for t in step(_TILES, config.tile_n)]
        moves += [{"tile_k": t} for t in step(_TILES[:4], config.tile_k)]
        moves += [{"stages": s} for s in step(_STAGES, config.stages)]
        moves += [{"warps": w} for w in step(_WARPS, config.warps)]
    elif group.kind == "pairwise":
        moves = [{"tile_m": t, "tile_n": t} for t in step(_TILES, config.tile_m)]
        moves += [{"tile_k": t} for t in step(_TILES[:4], config.tile_k)]
        moves += [{"warps": w} for w in step(_WARPS, config.warps)]
    elif group.kind == "segment":
        moves = [{"rows": r} for r in step(_SEGMENTS, config.rows)]
        moves += [{"chunk": c} for c in step(_SEGMENT_CHUNKS, config.chunk)]
        moves += [{"tile_n": t} for t in step(_SEGMENT_WIDTHS, config.tile_n)]
        moves += [{"warps": w} for w in step(_WARPS, config.warps)]
    elif group.kind == "pointwise" and sorted_scatter:  # an output row's rows, `chunk` at a time, `tile_n` wide
        moves = [{"chunk": c} for c in step(_SEGMENT_CHUNKS, config.chunk)]
        moves += [{"tile_n": t} for t in step(_SEGMENT_WIDTHS, config.tile_n)]
        moves += [{"warps": w} for w in step(_WARPS, config.warps)]
    elif group.kind == "pointwise":
        moves = [{"block": b} for b in step(_BLOCKS, config.block)] + [{"warps": w} for w in step(_WARPS, config.warps)]
    elif group.kind == "gemm_reduction":
        moves = [{"rows": r} for r in step(_GEMM_ROWS, config.rows)]
        moves += [{"tile_k": t} for t in step(_TILES[:4], config.tile_k)]
        moves += [{"single_max": s} for s in step(_GEMM_ROW_SINGLE, config.single_max)]
        moves += [{"chunk": c} for c in step(_GEMM_ROW_CHUNKS, config.chunk)]
        moves += [{"warps": w} for w in step(_WARPS, config.warps)]
    else:
        # A pool keeps its tap loop (one tap per step): only how many outputs a program takes, and its warps, move.
        pool = bool(group.window_members())
        # A top-k selection always holds whole rows (reduction_source.py): it has no slices to size.
        sliced = not pool and not group.selections()
        rows = step(_TAP_ROWS if pool else _ROWS, config.rows)
        moves = [{"splits": s} for s in step(_SPLITS, config.splits)] if config.splits else []
        moves += [{"rows": r} for r in rows] + [{"warps": w} for w in step(_WARPS, config.warps)]
        if sliced:
            moves += [{"chunk": c} for c in step(_CHUNKS, config.chunk)]
        if sliced and not config.splits:  # a split program always loops over its part
            moves += [{"single_max": s} for s in step(_SINGLE, config.single_max)]
        moves += [{"rows": r, "warps": w} for r, w in product(rows, step(_WARPS, config.warps))]
    return [config.model_copy(update=move) for move in moves]
