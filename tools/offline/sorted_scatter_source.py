"""The deterministic form of a scatter group: its iteration's rows sorted by destination, then reduced per output row.

Atomics (scatter_source.py) add in an order that changes from run to run, so fp32 sums may differ in their last
bits. Under the `sorted_scatters` schedule a group that adds whole rows by a per-row id (index_add: its ids are
shaped (rows, 1)) runs in two steps, all in Triton:

1. a stable LSD radix sort of the ids, one bit a pass: each pass counts a block's zeros, scans those counts in one
   program, and moves every id (with its row number) to its place among the zeros or the ones. Stable passes make
   the order of a destination's rows their order in the input, on every run. An id outside the output is sorted
   past every valid one (and clears the ok flag), so no output row reads it.
2. one program per (output row, slice of the row width) finds its rows by binary search in the sorted ids and
   computes the added values there (the gather and product that make them run in this kernel too), summing
   them in that fixed order into the started output.

Both forms are candidates and the harness's timings choose; this one is for callers that need bitwise
reproducibility, at the cost of the sort's passes (about log2(output rows) of them).
"""

from __future__ import annotations

from .configs import GroupConfig
from .dtypes import converted, kernel_type
from .fusion_groups import FusionGroup
from .program import Scalar
from .triton_source import KernelNames, member_lines, read_of, render

# The sort and the binary search, written into a module with a sorted scatter. `_sort_rows(ids, rows)` returns the
# ids sorted (bad ones as `rows`) and the row numbers in that order, and clears `ok` for a bad id.
SORT_SOURCE = '''@triton.jit
def _radix_zeros_kernel(keys_ptr, zeros_ptr, count, rows, ok_ptr, shift, FIRST: tl.constexpr, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < count
    keys = tl.load(keys_ptr + offsets, mask=inside, other=0).to(tl.int64)
    if FIRST:
        bad = inside & ((keys < 0) | (keys >= rows))
        if tl.max(bad.to(tl.int32), axis=0) > 0:
            tl.store(ok_ptr, False)
        keys = tl.where(bad, rows, keys)
    zero = inside & (((keys >> shift) & 1) == 0)
    tl.store(zeros_ptr + tl.program_id(0), tl.sum(zero.to(tl.int64), axis=0))
    if tl.program_id(0) == 0:  # the scan's last entry becomes the total
        tl.store(zeros_ptr + tl.num_programs(0), 0)


@triton.jit
def _exclusive_scan_kernel(values_ptr, count, BLOCK: tl.constexpr):
    carry = tl.sum(tl.zeros([BLOCK], dtype=tl.int64), axis=0)
    for start in range(0, count, BLOCK):
        offsets = start + tl.arange(0, BLOCK)
        inside = offsets < count
        values = tl.load(values_ptr + offsets, mask=inside, other=0)
        tl.store(values_ptr + offsets, tl.cumsum(values, axis=0) - values + carry, mask=inside)
        carry = carry + tl.sum(values, axis=0)


@triton.jit
def _radix_split_kernel(keys_ptr, order_ptr, keys_out_ptr, order_out_ptr, zeros_ptr, count, rows, shift,
                        FIRST: tl.constexpr, BLOCK: tl.constexpr):
    block = tl.program_id(0)
    offsets = block.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < count
    keys = tl.load(keys_ptr + offsets, mask=inside, other=0).to(tl.int64)
    if FIRST:
        keys = tl.where((keys < 0) | (keys >= rows), rows, keys)
        order = offsets
    else:
        order = tl.load(order_ptr + offsets, mask=inside, other=0)
    zero = (inside & (((keys >> shift) & 1) == 0)).to(tl.int64)
    one = inside.to(tl.int64) - zero
    zeros_before = tl.load(zeros_ptr + block)
    total_zeros = tl.load(zeros_ptr + tl.num_programs(0))
    ones_before = block.to(tl.int64) * BLOCK - zeros_before
    place = tl.where(zero == 1, zeros_before + tl.cumsum(zero, axis=0) - zero,
                     total_zeros + ones_before + tl.cumsum(one, axis=0) - one)
    tl.store(keys_out_ptr + place, keys, mask=inside)
    tl.store(order_out_ptr + place, order, mask=inside)


@triton.jit
def _lower_bound(keys_ptr, count, key, STEPS: tl.constexpr):
    """The first position in the sorted keys whose key is not below `key` (count when none is)."""
    low = tl.zeros_like(key)
    high = low + count
    for _ in tl.static_range(STEPS):
        middle = (low + high) // 2
        below = (tl.load(keys_ptr + middle, mask=middle < high, other=0) < key) & (middle < high)
        low = tl.where(below, middle + 1, low)
        high = tl.where(below, high, middle)
    return low


def _sort_rows(ids, rows, ok):
    count = ids.numel()
    keys = ids.contiguous()
    order = torch.empty(count, device=ids.device, dtype=torch.int64)
    blocks = triton.cdiv(count, 1024)
    if count == 0:
        return keys.to(torch.int64), order
    zeros = torch.empty(blocks + 1, device=ids.device, dtype=torch.int64)
    spare_keys = torch.empty(count, device=ids.device, dtype=torch.int64)
    spare_order = torch.empty(count, device=ids.device, dtype=torch.int64)
    for shift in range(max(1, rows.bit_length())):  # bad ids become `rows`, so its bits are sorted too
        first = shift == 0
        _radix_zeros_kernel[(blocks,)](keys, zeros, count, rows, ok, shift, FIRST=first, BLOCK=1024)
        _exclusive_scan_kernel[(1,)](zeros, blocks + 1, BLOCK=1024)
        _radix_split_kernel[(blocks,)](keys, order, spare_keys, spare_order, zeros, count, rows, shift,
                                       FIRST=first, BLOCK=1024)
        keys, spare_keys = spare_keys, (keys if not first else torch.empty_like(spare_keys))
        order, spare_order = spare_order, order
    return keys, order
'''


def sortable(group: FusionGroup) -> bool:
    """A group whose only scatter adds float rows of a 2-D iteration by a per-row id, and that writes nothing else
    (the sorted kernel iterates over output rows, not over the group's own elements)."""
    scatters = [m for m in group.members if m.kind == "scatter"]
    if len(scatters) != 1 or len(group.shape) != 2 or group.outputs != [scatters[0].name]:
        return False
    step = scatters[0]
    return step.scatter is not None and step.scatter.per_row and "float" in step.shape.dtype \
        and step.args[0] in group.external("full")


def sorted_kernel(group: FusionGroup, dtypes: dict[str, str]) -> str:
    names = KernelNames(group)
    step = next(m for m in group.members if m.kind == "scatter")
    accumulator = kernel_type(step.shape.dtype)
    value = step.args[1]
    added = f"tl.full([CHUNK, BLOCK_D], {value.expr}, {accumulator})" if isinstance(value, Scalar) else \
        converted(names.operand(value), dtypes[value], accumulator)
    loads = [f"a{i}_off = i0 * a{i}_st0 + i1 * a{i}_st1" for i in range(len(names.full))]
    loads += [f"x{i} = {read_of(names, t, f'a{i}', f'a{i}_off', 'mask', dtypes[t])}" for i, t in enumerate(names.full)]
    members = [line for m in group.members if m is not step
               for line in member_lines(names, m, dtypes, lambda d: f"i{d}")]
    body = ["row = tl.program_id(0).to(tl.int64)", "cols = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)",
            "cmask = cols < n1",
            "start = _lower_bound(keys_ptr, N, row, STEPS)", "end = _lower_bound(keys_ptr, N, row + 1, STEPS)",
            "acc = tl.zeros([BLOCK_D], dtype=tl.float32)", "bad = tl.zeros([CHUNK, BLOCK_D], dtype=tl.int1)",
            "for j in range(start, end, CHUNK):",
            *[f"    {line}" for line in [
                "pos = j + tl.arange(0, CHUNK)", "inside = pos < end",
                "i0 = tl.load(order_ptr + pos, mask=inside, other=0)[:, None]", "i1 = cols[None, :]",
                "mask = inside[:, None] & cmask[None, :]", *loads, *members,
                f"acc = acc + tl.sum(tl.where(mask, {added}, 0.0), axis=0)"]],
            "address = c0_ptr + row * c0_st0 + cols * c0_st1",
            "tl.store(address, tl.load(address, mask=cmask, other=0) + acc, mask=cmask)",
            "if tl.max(tl.max(bad.to(tl.int32), axis=1), axis=0) > 0:", "    tl.store(ok_ptr, False)"]
    header = (f"def _{group.name}_sorted({names.signature(['N', 'keys_ptr', 'order_ptr'])}, "
              "STEPS: tl.constexpr, CHUNK: tl.constexpr, BLOCK_D: tl.constexpr):")
    return render(group, header, body)


def sorted_launch(group: FusionGroup, config: GroupConfig, arguments: str) -> list[str]:
    """The launcher's lines that sort the ids (`a{k}`, the group's operand for them) and run the sorted kernel;
    `arguments`: its runtime arguments by keyword (the launcher's values, with N the iteration's rows)."""
    step = next(m for m in group.members if m.kind == "scatter")
    ids = f"a{KernelNames(group).full.index(step.args[0])}"
    return ["edges = shape[0]", f"keys, order = _sort_rows({ids}[:, 0], c0.shape[0], ok)",
            f"block_d = min({config.tile_n}, triton.next_power_of_2(max(shape[1], 1)))",
            "grid = (c0.shape[0], triton.cdiv(shape[1], block_d))",
            "if c0.numel():",
            f"    _{group.name}_sorted[grid]({arguments}, STEPS=edges.bit_length() + 1, CHUNK={config.chunk}, "
            f"BLOCK_D=block_d, num_warps={config.warps})"]
