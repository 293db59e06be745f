"""A segment group -> its Triton kernel and launcher: embedding bags and jagged segment reductions.

A program takes `SEGS` segments and a `BLOCK_D`-wide slice of the row width, and walks each segment's rows
`CHUNK` at a time, so a segment's length (data, read at run time) only sets a loop's trip count. The
elementwise members that follow the reduction (a mean's division, an activation) run on the reduced row before
it is stored: the segment's result never goes back to memory in between.

Bad input never reads out of bounds: an id outside the table, a padding id, a negative or non-monotone offset and
lengths that do not add up to the rows are masked or clamped, and the kernel clears a flag that the launcher turns
into PyTorch's asynchronous assertion (a device-side assert on a GPU, as PyTorch's own kernels give for a bad id;
a RuntimeError on the CPU), so no host synchronisation is added to a valid call.
"""

from __future__ import annotations

from .configs import GroupConfig
from .formulas import accumulate, reduce_call
from .fusion_groups import FusionGroup
from .launcher_source import keyword_arguments, launcher_name, out_dtype
from .program import PrimStep, SegmentSpec
from .triton_source import KernelNames, expression_of, load_of, render

# Positional families of a segment's own operands (kernel_naming.py names them after the traced tensors).
ROLES = ("g0", "g1", "g2", "g3")  # rows (a jagged tensor or a table), ids, bounds, per-row weights
_NEUTRAL = {"sum": "0.0", "mean": "0.0", "max": 'float("-inf")', "min": 'float("inf")'}
# Each segment's end from the lengths: a running sum in two parallel passes, written only into a module whose
# segments take lengths.
# A negative length clears `ok`: segment_reduce and repeat_interleave both refuse one, and ends that go back would
# place rows in the wrong segment.
SEGMENT_ENDS_SOURCE = '''@triton.jit
def _length_sums_kernel(lengths_ptr, sums_ptr, count, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    lengths = tl.load(lengths_ptr + offsets, mask=offsets < count, other=0).to(tl.int64)
    tl.store(sums_ptr + tl.program_id(0), tl.sum(lengths, axis=0))


@triton.jit
def _segment_ends_kernel(lengths_ptr, sums_ptr, ends_ptr, ok_ptr, count, BLOCK: tl.constexpr, SUMS: tl.constexpr):
    block = tl.program_id(0)
    carry = tl.sum(tl.zeros([SUMS], dtype=tl.int64), axis=0)
    for first in range(0, block, SUMS):  # the lengths before this block: the sums of the blocks before it
        before = first + tl.arange(0, SUMS)
        carry += tl.sum(tl.load(sums_ptr + before, mask=before < block, other=0), axis=0)
    offsets = block.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    inside = offsets < count
    lengths = tl.load(lengths_ptr + offsets, mask=inside, other=0).to(tl.int64)
    tl.store(ends_ptr + offsets, tl.cumsum(lengths, axis=0) + carry, mask=inside)
    if tl.sum((lengths < 0).to(tl.int64), axis=0) > 0:
        tl.store(ok_ptr, False)


def _segment_ends(lengths):
    """Each segment's end, the running sum of the lengths, in two parallel passes: every block's sum, then each
    block's running sum plus the sums of the blocks before it (a serial scan would walk millions of lengths on
    one SM)."""
    ends = torch.empty(lengths.shape, device=lengths.device, dtype=torch.int64)
    ok = torch.ones(1, device=lengths.device, dtype=torch.bool)
    blocks = triton.cdiv(lengths.numel(), 1024)
    if blocks:
        sums = torch.empty(blocks, device=lengths.device, dtype=torch.int64)
        if blocks > 1:
            _length_sums_kernel[(blocks,)](lengths, sums, lengths.numel(), BLOCK=1024)
        _segment_ends_kernel[(blocks,)](lengths, sums, ends, ok, lengths.numel(), BLOCK=1024, SUMS=1024)
    torch._assert_async(ok, "segment bounds: a negative length")
    return ends


def _segment_rows(ends, segments):
    """The rows of `segments` segments that end at `ends`: the last end, read on the host (it sizes a result, as
    PyTorch's own repeat_interleave and boolean indexing read it)."""
    if ends.shape[0] != segments:
        raise RuntimeError(f"{ends.shape[0]} segment lengths for {segments} segments")
    return int(ends[-1]) if segments else 0
'''
BAD_INPUT = ("an id outside the table, or segment bounds (offsets or lengths) that are negative, out of order or "
             "beyond the rows")


def segment_operands(step: PrimStep) -> dict[str, str]:
    """Family -> the traced tensor in that role, for the roles `step` has (its args are in role order)."""
    spec = _spec(step)
    present = [True, spec.gathered, spec.bounds != "fixed", spec.weighted]
    roles = [role for role, here in zip(ROLES, present, strict=True) if here]
    return dict(zip(roles, step.tensor_args(), strict=True))


def _spec(step: PrimStep) -> SegmentSpec:
    if step.segment is None:
        raise ValueError(f"{step.name} is not a segment reduction")
    return step.segment


def _bounds(spec: SegmentSpec) -> list[str]:
    """`start` and `end` of segment `seg` (int64), and `wrong` where the bounds themselves are bad."""
    if spec.bounds == "fixed":
        return ["start = seg64 * bag", "end = start + bag", "wrong = (start < 0) | (end > total)"]
    if spec.bounds == "lengths":  # g2 holds each segment's end (the launcher's running sum of the lengths)
        lines = ["end = tl.load(g2_ptr + seg64, mask=live, other=0).to(tl.int64)",
                 "start = tl.load(g2_ptr + seg64 - 1, mask=live & (seg > 0), other=0).to(tl.int64)",
                 # The lengths must add up to the rows, as segment_reduce requires.
                 "wrong = (start < 0) | (end < start) | ((seg == n0 - 1) & (end != total))"]
    else:
        lines = ["start = tl.load(g2_ptr + seg64, mask=live, other=0).to(tl.int64)",
                 "end = tl.load(g2_ptr + seg64 + 1, mask=live & (seg + 1 < nb), other=total).to(tl.int64)",
                 "wrong = (start < 0) | (end < start) | (end > total)"]
    return lines


def _rows(spec: SegmentSpec, padding: str) -> list[str]:
    """One step of `CHUNK` rows: `vals` (CHUNK, BLOCK_D) in fp32 and `take`, the rows that count."""
    lines = ["pos = j + lanes", "inside = pos < end"]
    if spec.gathered:
        lines += ["ids = tl.load(g1_ptr + pos, mask=inside, other=0).to(tl.int64)",
                  "valid = (ids >= 0) & (ids < table_rows)",
                  "bad = bad | (inside & (valid == 0)).to(tl.int32)",
                  "take = inside & valid" + (f" & (ids != {padding})" if spec.padded else ""),
                  "address = ids[:, None] * g0_st0 + cols[None, :] * g0_st1"]
    else:
        lines += ["take = inside", "address = pos[:, None] * g0_st0 + cols[None, :] * g0_st1"]
    lines.append("vals = tl.load(g0_ptr + address, mask=take[:, None] & cmask[None, :], other=0).to(tl.float32)")
    if spec.weighted:
        lines.append("vals = vals * tl.load(g3_ptr + pos, mask=take, other=0).to(tl.float32)[:, None]")
    if spec.reduce in ("max", "min"):
        lines.append(f"vals = tl.where(take[:, None], vals, {_NEUTRAL[spec.reduce]})")
    lines.append(f"acc = {accumulate(spec.reduce, 'acc', reduce_call(spec.reduce, 'vals', 0))}")
    return [*lines, "taken = taken + take.to(tl.int32)"]


def _finish(spec: SegmentSpec) -> list[str]:
    lines = ["count = tl.sum(taken, axis=0)"]
    if spec.initial is not None:
        lines.append(f"acc = {accumulate(spec.reduce, 'acc', str(spec.initial))}")
    if spec.reduce == "mean":
        lines.append("acc = acc / tl.maximum(count, 1).to(tl.float32)")
    return [*lines, f"acc = tl.where(count > 0, acc, {spec.empty})"]


def segment_kernel(group: FusionGroup, dtypes: dict[str, str]) -> str:
    step = group.segment()
    if step is None or len(group.shape) != 2:
        raise ValueError(f"{group.name} is not a segment reduction over (segments, width)")
    spec = _spec(step)
    names = KernelNames(group)
    roles = segment_operands(step)
    own = [part for role in roles for part in (f"{role}_ptr", *((f"{role}_st0", f"{role}_st1")
                                                                if role == "g0" else ()))]
    header = (f"def _{group.name}({', '.join(own)}, ok_ptr, "
              f"{names.signature(['total', 'nb', 'bag', 'table_rows'])}, "
              "SEGS: tl.constexpr, CHUNK: tl.constexpr, BLOCK_D: tl.constexpr):")
    padding = names.operand(step.args[-1]) if spec.padded else ""
    per_segment = [*_bounds(spec), "flag = flag | (live & wrong).to(tl.int32)",
                   "start = tl.minimum(tl.maximum(start, 0), total)", "end = tl.minimum(tl.maximum(end, start), total)",
                   f"acc = tl.full([BLOCK_D], {_NEUTRAL[spec.reduce]}, tl.float32)",
                   "taken = tl.zeros([CHUNK], dtype=tl.int32)",
                   "for j in range(start, end, CHUNK):", *[f"    {line}" for line in _rows(spec, padding)],
                   *_finish(spec),
                   f"v_{step.name} = acc"]
    epilogue = [m for m in group.members if m is not step]
    per_segment += [f"x{i} = {load_of(f'a{i}_ptr', f'seg64 * a{i}_st0 + cols * a{i}_st1', 'row_mask', dtypes[t])}"
                    for i, t in enumerate(names.full)]
    per_segment += [f"v_{m.name} = {expression_of(names, m, dtypes)}" for m in epilogue]
    per_segment += [f"tl.store(o{i}_ptr + seg64 * os0 + cols * os1, v_{o}, mask=row_mask)"
                    for i, o in enumerate(names.outputs_full)]
    body = ["cols = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)", "cmask = cols < n1",
            "lanes = tl.arange(0, CHUNK)", "bad = tl.zeros([CHUNK], dtype=tl.int32)", "flag = 0",
            "for k in tl.static_range(SEGS):",
            "    seg = tl.program_id(0) * SEGS + k", "    seg64 = seg.to(tl.int64)", "    live = seg < n0",
            # The row's mask as a vector: Triton's interpreter cannot combine a scalar mask with a vector one.
            "    row_mask = cmask & (cols * 0 + seg < n0)",
            *[f"    {line}" for line in per_segment],
            "flag = flag | tl.max(bad, axis=0)",
            "if flag > 0:  # only a program that saw bad input writes (the same value: no atomic needed)",
            "    tl.store(ok_ptr, False)"]
    return render(group, header, body)


def _segments(spec: SegmentSpec) -> str:
    """How many segments the launch has, from its inputs."""
    if spec.bounds == "fixed":
        return "g1.shape[0]"
    return "g2.shape[0] - 1" if spec.closed else "g2.shape[0]"


def segment_launcher(group: FusionGroup, config: GroupConfig, dtypes: dict[str, str],
                     kernels: dict[str, dict[str, str]]) -> str:
    """`kernels`: the runtime parameters the kernel keeps (kernel_naming.readable_kernels)."""
    step = group.segment()
    spec = _spec(step)
    names = KernelNames(group)
    roles = segment_operands(step)
    full = [f"a{i}" for i in range(len(names.full))]
    scalars = [f"s{i}" for i in range(len(names.scalars))]
    lines = [*(["g1 = g1.contiguous()"] if spec.gathered else []),
             *(["g3 = g3.contiguous()"] if spec.weighted else []),
             *(["g2 = _segment_ends(g2)"] if spec.bounds == "lengths" else []),
             f"shape = torch.Size([{_segments(spec)}, g0.shape[1]])",
             *[f"{a} = {a}.broadcast_to(shape)" for a in full],
             "ok = torch.ones(1, device=g0.device, dtype=torch.bool)"]
    outputs = [f"o{i}" for i in range(len(names.outputs_full))]
    lines += [f"{o} = torch.empty(shape, device=g0.device, dtype={out_dtype(dtypes, name)})"
              for o, name in zip(outputs, names.outputs_full, strict=True)]
    values = {f"{role}_ptr": role for role in roles} | {"g0_st0": "g0.stride(0)", "g0_st1": "g0.stride(1)"}
    values |= {f"{a}_ptr": a for a in full} | {f"{o}_ptr": o for o in outputs} | {"ok_ptr": "ok"}
    values |= {f"a{i}_st{d}": f"a{i}.stride({d})" for i in range(len(full)) for d in range(2)}
    values |= {f"os{d}": f"o0.stride({d})" for d in range(2)} | {f"n{d}": f"shape[{d}]" for d in range(2)}
    values |= {s: s for s in scalars} | {
        "total": "g1.numel()" if spec.gathered else "g0.shape[0]",
        "nb": "g2.shape[0]" if spec.bounds != "fixed" else "0",
        "bag": "g1.shape[1]" if spec.bounds == "fixed" else "0",
        "table_rows": "g0.shape[0]"}
    kernel = f"_{group.name}"
    lines += [f"block_d = min({config.tile_n}, triton.next_power_of_2(max(shape[1], 1)))",
              f"grid = (triton.cdiv(shape[0], {config.rows}), triton.cdiv(shape[1], block_d))",
              "if shape.numel():",
              f"    {kernel}[grid]({keyword_arguments(kernels[kernel], values)}, SEGS={config.rows}, "
              f"CHUNK={config.chunk}, BLOCK_D=block_d, num_warps={config.warps})",
              f"torch._assert_async(ok, {(group.name + ': ' + BAD_INPUT)!r})",
              f"return {', '.join(outputs)}{',' if len(outputs) == 1 else ''}"]
    signature = ", ".join([*roles, *full, *scalars])
    return f"def {launcher_name(group)}({signature}):\n" + "\n".join(f"    {line}" for line in lines) + "\n"
