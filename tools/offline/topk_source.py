"""A reduction kernel's picked level (fusion.py): top-k selections over the row on chip, and what follows them.

A picked value is a [BLOCK_K, BLOCK_T] block: for each of the program's rows, its k picked entries in the
order of the selection (`slot`, BLOCK_T the next power of two of k). A selection takes k passes over the row held
in registers, each taking the best entry still unpicked: the largest (or smallest), and of equal ones the first.
NaN counts as larger than every number, as in torch.topk: the largest k take the row's NaNs first, the smallest
take them last. Where PyTorch's order among equal values is unspecified (its CPU and CUDA kernels give different
ones), the first index is as good a choice as any, and the one a person expects.
"""

from __future__ import annotations

from .formulas import reduce_call
from .program import PrimStep
from .triton_source import offset_of

# The kernel's value for k (a literal, or a scalar argument the launcher passes) and the mask of the slots it fills.
TOP_COUNT = "top_n"
SLOTS = ["slot = tl.arange(0, BLOCK_T)", f"slot_mask = slot < {TOP_COUNT}"]


def selection_key(member: PrimStep) -> tuple[object, ...]:
    """What a selection depends on: its values' and its indices' members share it."""
    return (member.args[0], member.args[1], member.args[2], member.dims)


def selection_lines(prefix: str, operand: str, largest: bool) -> list[str]:
    """k passes over `operand` (a [BLOCK_K, BLOCK_R] block, `mask` its valid part): `{prefix}_v` and `{prefix}_i`
    are the picked values and their positions along the row (`r`, the reduced index)."""
    x, alive = f"{prefix}_x", f"{prefix}_alive"
    if largest:
        best = [f"best = tl.max(tl.where(real, {x}, float('-inf')), axis=1)",
                "other = tl.max(nans.to(tl.int32), axis=1) > 0",  # a NaN left: it comes first
                f"take = tl.where(other[:, None], nans, real & ({x} == best[:, None]))",
                "value = tl.where(other, float('nan'), best)"]
    else:
        best = [f"best = tl.min(tl.where(real, {x}, float('inf')), axis=1)",
                "other = tl.max(real.to(tl.int32), axis=1) == 0",  # only NaNs left: they come last
                f"take = tl.where(other[:, None], nans, real & ({x} == best[:, None]))",
                "value = tl.where(other, float('nan'), best)"]
    loop = [f"nans = {alive} & ({x} != {x})", f"real = {alive} & ({x} == {x})", *best,
            "at = tl.min(tl.where(take, r[None, :], BLOCK_R), axis=1)",
            f"{prefix}_v = tl.where(slot[None, :] == t, value[:, None], {prefix}_v)",
            f"{prefix}_i = tl.where(slot[None, :] == t, at[:, None].to(tl.int64), {prefix}_i)",
            f"{alive} = {alive} & (r[None, :] != at[:, None])"]
    return [f"{x} = {operand}", f"{alive} = mask",
            f"{prefix}_v = tl.zeros([BLOCK_K, BLOCK_T], tl.float32)",
            f"{prefix}_i = tl.zeros([BLOCK_K, BLOCK_T], tl.int64)",
            f"for t in range({TOP_COUNT}):", *[f"    {line}" for line in loop]]


def picked_gather_lines(name: str, table: str, ids: str) -> list[str]:
    """The row `table` ([BLOCK_K, BLOCK_R]) read at the picked positions `ids`: one masked sum per slot, so a NaN
    elsewhere in the row stays out."""
    at = f"tl.sum(tl.where(slot[None, :] == t, {ids}, 0), axis=1)"
    read = f"tl.sum(tl.where(r[None, :] == {at}[:, None], {table}, 0.0), axis=1)"
    return [f"v_{name} = tl.zeros([BLOCK_K, BLOCK_T], tl.float32)", f"for t in range({TOP_COUNT}):",
            f"    v_{name} = tl.where(slot[None, :] == t, {read}[:, None], v_{name})"]


def picked_reduction_lines(member: PrimStep, operand: str, neutral: str) -> list[str]:
    """A reduction over the k picked (the renormalising sum of a router's weights)."""
    mean = f" / {TOP_COUNT}" if member.fn == "mean" else ""
    masked = f"tl.where(slot_mask[None, :], {operand}, {neutral})"
    return [f"v_{member.name} = ({reduce_call(member.fn, masked, 1)}{mean})[:, None]"]


def picked_stores(outputs: list[str], kept: list[int], reduced_dim: int) -> list[str]:
    """Picked outputs are shaped like the row with k along the reduced dim, in buffers of one layout (ps: their
    strides)."""
    lines = [f"pick_row = {offset_of('ps', kept, 'j', 'k')}"]
    return lines + [f"tl.store(u{i}_ptr + pick_row[:, None] + slot[None, :] * ps{reduced_dim}, v_{o}, "
                    "mask=k_mask[:, None] & slot_mask[None, :])" for i, o in enumerate(outputs)]
