"""Which reduction groups may be split across programs, and how their reductions are staged.

A reduction group runs one program per `rows` kept rows. With few kept rows and a long reduced extent (batch norm
over N*H*W per channel, group norm over a few rows, a whole-tensor mean or loss) that is a handful of programs on
a GPU of a hundred SMs. Split, each row's extent is shared among `splits` programs: a partial kernel writes one
partial result per (kept row, split), and the kernel after it combines them. Reductions whose operands read no
other reduction's result form the first level (one partial kernel); those that read a first-level result the
second, and so on; a last kernel combines the last level and writes the group's outputs.

A mean and the mean (or sum) of squared deviations from it, as every variance and normalisation is lowered, are
one level: each split keeps Welford's running mean and sum of squared deviations per lane and reduces its lanes by
Chan's formula, and the combining kernel merges the splits by the same formula. That reads the input once for both
statistics, where a sum of squares would need a second pass or lose digits to cancellation (E[x^2] - E[x]^2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .fusion_groups import FusionGroup
from .program import PrimStep

SPLITTABLE = {"sum", "mean", "amax", "amin"}
# Fewer programs than two per SM leave SMs idle for the whole kernel (and one per SM hides no memory latency):
# below that many kept rows a plain launch cannot fill the device.
ROWS_PER_SM = 2
# A split should at least fill one slice of a wide loop: below two of those per row there is nothing to share.
MIN_SPAN = 4096
# A few waves of programs: enough in flight to hide memory latency, few enough that each one's partial is worth it.
PROGRAMS_PER_SM = 4
MAX_SPLITS = 512


@dataclass(frozen=True)
class SplitPlan:
    """`levels`: the reductions each partial kernel computes, in program order; `variance`: each second moment
    (a mean or sum of squared deviations) -> the mean it deviates from, computed with it by Welford and Chan."""

    levels: tuple[tuple[str, ...], ...]
    variance: dict[str, str]

    @property
    def slots(self) -> list[str]:
        """Every reduction, in the order of their rows in the partials buffer."""
        return [name for level in self.levels for name in level]


def kept_rows(group: FusionGroup) -> int:
    return math.prod(s for d, s in enumerate(group.shape) if d not in group.reduced_dims)


def extent(group: FusionGroup) -> int:
    return math.prod(group.shape[d] for d in group.reduced_dims)


def splittable(group: FusionGroup) -> bool:
    """Whether the split kernels can compute the group: plain reductions only (no scan, pool window, GEMM or
    arg-max, whose partials would carry positions)."""
    return group.kind == "reduction" and all(
        m.fn in SPLITTABLE if m.kind == "reduce" else m.kind == "pointwise" for m in group.members)


def worth_splitting(group: FusionGroup, sm_count: int) -> bool:
    """Too few kept rows to fill the device at the traced shape, and rows long enough to share out."""
    return splittable(group) and kept_rows(group) < ROWS_PER_SM * sm_count and extent(group) >= 2 * MIN_SPAN


def default_splits(group: FusionGroup, rows: int, sm_count: int) -> int:
    """A power of two that brings the programs to a few per SM, with no split shorter than MIN_SPAN."""
    wanted = math.ceil(PROGRAMS_PER_SM * sm_count / math.ceil(kept_rows(group) / rows))
    most = 1 << (max(2, extent(group) // MIN_SPAN).bit_length() - 1)  # the largest power of two that fits
    return max(2, min(1 << max(0, (wanted - 1).bit_length()), most, MAX_SPLITS))


def split_span(extent: int, splits: int, chunk: int) -> tuple[int, int]:
    """The elements each split reduces and how many splits that makes: whole slices each, and none empty (so a
    split's count follows from the span alone). The launcher computes the same at run time."""
    span = max(1, math.ceil(math.ceil(extent / splits) / chunk)) * chunk
    return span, max(1, math.ceil(extent / span))


def _second_moment_of(member: PrimStep, members: dict[str, PrimStep], group: FusionGroup) -> str | None:
    """The mean that `member` (a reduction) takes squared deviations from, when it is mean((x - mean(x))^2) or
    sum((x - mean(x))^2) over the same dims; None otherwise."""
    if member.fn not in ("sum", "mean"):
        return None
    square = members.get(member.args[0])
    if square is None or square.fn != "mul" or square.args[0] != square.args[1]:
        return None
    deviation = members.get(square.args[0])
    if deviation is None or deviation.fn != "sub" or not isinstance(deviation.args[1], str):
        return None
    mean = members.get(deviation.args[1])
    if mean is None or mean.kind != "reduce" or mean.fn != "mean" or mean.args[0] != deviation.args[0]:
        return None
    return mean.name if group.levels[deviation.name] == "full" else None


def plan(group: FusionGroup) -> SplitPlan:
    members = {m.name: m for m in group.members}
    level_of: dict[str, int] = {}  # a member -> 1 + the deepest reduction it reads (0: none)
    variance: dict[str, str] = {}
    for member in group.members:
        reads = [level_of[a] for a in member.tensor_args() if a in level_of]
        depth = max(reads, default=0)
        if member.kind == "reduce":
            mean = _second_moment_of(member, members, group)
            if mean is not None and mean not in variance.values():  # one second moment rides on each mean
                variance[member.name] = mean
                depth = level_of[mean] - 1  # computed with its mean, from the same pass
            level_of[member.name] = depth + 1
        else:
            level_of[member.name] = depth
    count = max((level_of[m.name] for m in group.members if m.kind == "reduce"), default=0)
    levels = tuple(tuple(m.name for m in group.members if m.kind == "reduce" and level_of[m.name] == i + 1)
                   for i in range(count))
    return SplitPlan(levels, variance)
