"""Reduction groups -> their two Triton kernels: whole rows on chip, or looping over slices.

The on-chip form loads every input once and computes the members in program order. The looping
form computes each reduction in its own pass over the reduced extent, recomputing the reduction's
operand from its loads (the members it needs, its "cone"), and a last pass writes the full-level
outputs, carrying scans across slices.

A group may start with a GEMM whose rows it reduces (kept dim 0 is the product's row, reduced dim 1 its
column): the product's tile is computed where a load would be, so the on-chip form multiplies once and the
looping form multiplies again in each pass, which only pays where the search finds it does.

A group that selects top-k (topk_source.py) has the on-chip form only: its launcher holds whole rows.
"""

from __future__ import annotations

from kevolve.eval_harness.precision import MathMode

from .formulas import accumulate, first_extreme_at, reduce_call
from .fusion_groups import FusionGroup
from .program import PrimStep
from .regime import dot_call
from .topk_source import (
    SLOTS,
    TOP_COUNT,
    picked_gather_lines,
    picked_reduction_lines,
    picked_stores,
    selection_key,
    selection_lines,
)
from .triton_source import (
    NEUTRAL,
    PROGRAM_ID,
    SCAN_NEUTRAL,
    KernelNames,
    decompose,
    member_lines,
    offset_of,
    read_of,
    render,
)
from .window_source import ADAPTIVE_WINDOWS, adaptive_tap


class ReductionBody:
    """Statements of a reduction kernel; `looped` chooses between the two forms."""

    def __init__(self, group: FusionGroup, dtypes: dict[str, str], looped: bool, mode: MathMode) -> None:
        self.group, self.dtypes, self.looped, self.mode = group, dtypes, looped, mode
        self.names = KernelNames(group)
        self.reduced_dims = list(group.reduced_dims)
        self.members = {m.name: m for m in group.members}
        self.selected: dict[tuple[object, ...], str] = {}  # a selection's key -> the prefix of its values

    def prologue(self, out_row: bool = True) -> list[str]:
        """`out_row`: the offset of each kept row in the full-level outputs, for a kernel that stores them."""
        n = self.names
        lines = [*PROGRAM_ID, "k = pid * BLOCK_K + tl.arange(0, BLOCK_K)", "k_mask = k < K"]
        lines += decompose("k", n.kept, "j") if n.kept else []
        for i in range(len(n.full)):
            lines.append(f"a{i}_k = {offset_of(f'a{i}_st', n.kept, 'j', 'k')}")
        for i, tensor in enumerate(n.reduced):
            offset = offset_of(f"b{i}_st", n.kept, "j", "k")
            load = read_of(n, tensor, f"b{i}", f"({offset})[:, None]", "k_mask[:, None]", self.dtypes[tensor])
            lines.append(f"y{i} = {load}")
        if n.outputs_full and out_row:
            lines.append(f"out_row = {offset_of('os', n.kept, 'j', 'k')}")
        if self.group.selections():
            lines += [f"{TOP_COUNT} = {n.operand(self.group.selections()[0].args[1])}", *SLOTS]
        return lines

    def slice_lines(self, start: str, stop: str = "R") -> list[str]:
        """A slice of the reduced extent from `start`; `stop`: where this program's part of it ends."""
        return [f"r = {start}tl.arange(0, BLOCK_R)", f"r_mask = r < {stop}", *decompose("r", self.reduced_dims, "i"),
                "mask = k_mask[:, None] & r_mask[None, :]"]

    def cone(self, targets: list[str]) -> tuple[list[str], list[str]]:
        """Full-level members and external loads needed for `targets`, in program order."""
        needed: set[str] = set()
        loads: set[str] = set()
        stack = list(targets)
        while stack:
            name = stack.pop()
            if name in self.members and self.group.levels[name] == "full" and name not in needed:
                needed.add(name)
                stack += self.members[name].tensor_args()
            elif name in self.names.full:
                loads.add(name)
        order = [m.name for m in self.group.members if m.name in needed]
        return order, [t for t in self.names.full if t in loads]

    def loads(self, tensors: list[str]) -> list[str]:
        lines = []
        for tensor in tensors:
            i = self.names.full.index(tensor)
            offset = f"a{i}_k[:, None] + ({offset_of(f'a{i}_st', self.reduced_dims, 'i', 'r')})[None, :]"
            lines.append(f"x{i} = {read_of(self.names, tensor, f'a{i}', offset, 'mask', self.dtypes[tensor])}")
        return lines

    def full_values(self, targets: list[str], carries: dict[str, str]) -> list[str]:
        order, loads = self.cone(targets)
        lines = self.loads(loads)
        for name in order:
            member = self.members[name]
            if member.kind == "window":
                lines += self.window(member)
            elif member.kind == "gemm":
                lines += self.product(member)
            elif member.kind == "scan":
                lines += self.scan(member, carries)
            else:
                lines += self.computed(member)
        return lines

    def index(self, dim: int) -> str:
        """The index along `dim` of the group's shape, as a [BLOCK_K, BLOCK_R] operand."""
        return f"i{dim}[None, :]" if dim in self.reduced_dims else f"j{dim}[:, None]"

    def computed(self, member: PrimStep) -> list[str]:
        """An elementwise member's lines; an `index` member is the position along its dim (a cross-entropy's
        class index)."""
        if member.fn == "index":
            return [f"v_{member.name} = {self.index(member.dims[0])}"]
        return member_lines(self.names, member, self.dtypes, self.index)

    def window(self, member: PrimStep) -> list[str]:
        """A pooled read: tap t of output o in spatial dim i sits at o * stride - padding + t * dilation."""
        names = self.names
        w = names.windowed.index(member.args[0])
        count = names.window_rank - 2
        # args: the tensor, then per spatial dim the kernel sizes, strides, paddings and dilations (an adaptive
        # window's: its output sizes); the kernel sizes are the taps' extents in the iteration shape, so the
        # kernel needs only the rest.
        settings = [[names.operand(a) for a in member.args[1 + k * count:1 + (k + 1) * count]] for k in range(4)]
        lines, valid, offset = [], ["mask"], [f"(j0 * w{w}_st0 + j1 * w{w}_st1)[:, None]"]
        for i in range(count):
            out, tap, position = 2 + i, 2 + count + i, f"pos_{member.name}_{i}"
            if member.fn in ADAPTIVE_WINDOWS:
                placed, inside = adaptive_tap(position, f"j{out}", f"i{tap}", f"w{w}_n{2 + i}", settings[0][i])
                lines.append(placed)
                valid.append(inside)
            else:
                stride, padding, dilation = (setting[i] for setting in settings[1:])
                lines.append(f"{position} = j{out}[:, None] * {stride} - {padding} + i{tap}[None, :] * {dilation}")
                valid.append(f"({position} >= 0) & ({position} < w{w}_n{2 + i})")
            offset.append(f"{position} * w{w}_st{2 + i}")
        pad = 'float("-inf")' if member.fn.endswith("_max") else "0.0"
        return [*lines, f"valid_{member.name} = {' & '.join(valid)}",
                f"v_{member.name} = tl.load(w{w}_ptr + {' + '.join(offset)}, mask=valid_{member.name}, "
                f"other={pad}).to(tl.float32)"]

    def product(self, member: PrimStep) -> list[str]:
        """The GEMM's tile for rows k and columns r, accumulated in fp32 over D in BLOCK_D slices."""
        acc = f"acc_{member.name}"
        return [f"{acc} = tl.zeros([BLOCK_K, BLOCK_R], tl.float32)", "for d0 in range(0, D, BLOCK_D):",
                "    d = d0 + tl.arange(0, BLOCK_D)",
                "    g0 = tl.load(g0_ptr + j0[:, None] * g0_st0 + d[None, :] * g0_st1, "
                "mask=k_mask[:, None] & (d[None, :] < D), other=0.0)",
                "    g1 = tl.load(g1_ptr + d[:, None] * g1_st0 + i1[None, :] * g1_st1, "
                "mask=(d[:, None] < D) & r_mask[None, :], other=0.0)",
                f"    {acc} += {dot_call('g0', 'g1', self.mode)}", f"v_{member.name} = {acc}"]

    def scan(self, member: PrimStep, carries: dict[str, str]) -> list[str]:
        operand = self.names.operand(member.args[0])
        masked = f"tl.where(mask, {operand}, {SCAN_NEUTRAL[member.fn]})"
        if member.fn == "cumsum":
            scanned = f"tl.cumsum({masked}, axis=1)"
        elif member.fn == "cumprod":
            scanned = f"tl.cumprod({masked}, axis=1)"
        else:
            scanned = f"tl.associative_scan({masked}, 1, _logaddexp)"
        carry = carries.get(member.name)
        if carry is None:
            return [f"v_{member.name} = {scanned}"]
        combine = {"cumsum": f"{scanned} + {carry}[:, None]", "cumprod": f"{scanned} * {carry}[:, None]",
                   "logcumsumexp": f"_logaddexp({scanned}, {carry}[:, None])"}[member.fn]
        last = f"tl.sum(tl.where(tl.arange(0, BLOCK_R)[None, :] == BLOCK_R - 1, v_{member.name}, 0.0), axis=1)"
        return [f"v_{member.name} = {combine}", f"{carry} = {last}"]

    def selection(self, member: PrimStep) -> list[str]:
        """A top-k's values or indices; the selection is made once for both."""
        key = selection_key(member)
        lines = []
        if key not in self.selected:
            self.selected[key] = f"sel{len(self.selected)}"
            largest = member.args[2].expr == "True"
            lines = selection_lines(self.selected[key], self.names.operand(member.args[0]), largest)
        return [*lines, f"v_{member.name} = {self.selected[key]}_{'i' if member.index else 'v'}"]

    def picked_gather(self, member: PrimStep) -> list[str]:
        """The row at a selection's indices: the selection's own values where it selected from that row."""
        table, ids = member.tensor_args()[:2]
        selection = self.members[ids]
        if selection.args[0] == table:
            return [f"v_{member.name} = {self.selected[selection_key(selection)]}_v"]
        return picked_gather_lines(member.name, self.names.operand(table), self.names.operand(ids))

    def reduction(self, member: PrimStep) -> list[str]:
        operand = self.names.operand(member.args[0])
        neutral = NEUTRAL[member.fn]
        if self.group.levels.get(member.args[0]) == "picked":
            return picked_reduction_lines(member, operand, neutral)
        masked = f"tl.where(mask, {operand}, {neutral})"
        v = f"v_{member.name}"
        mean = " / R" if member.fn == "mean" else ""
        if not self.looped:
            if member.fn in ("argmax", "argmin"):
                chunk = f"chunk_{member.name}"
                return [f"{chunk} = {masked}", f"{v} = {first_extreme_at(member.fn, chunk, 1)}[:, None]"]
            return [f"{v} = ({reduce_call(member.fn, masked, 1)}{mean})[:, None]"]
        body = self.slice_lines("r0 + ") + self.full_values([member.args[0]], {})
        if member.fn in ("argmax", "argmin"):
            better = ">" if member.fn == "argmax" else "<"
            init = [f"best_{member.name} = tl.full([BLOCK_K], {neutral}, tl.float32)",
                    f"{v} = tl.zeros([BLOCK_K], tl.int64)"]
            extreme = "amax" if member.fn == "argmax" else "amin"
            best = f"best_{member.name}"
            body += [f"chunk = {masked}", f"chunk_best = {reduce_call(extreme, 'chunk', 1)}",
                     f"chunk_at = {first_extreme_at(member.fn, 'chunk', 1)} + r0",
                     # the first NaN wins, and once found no later chunk beats it
                     f"take = (chunk_best {better} {best}) | ((chunk_best != chunk_best) & ({best} == {best}))",
                     f"{v} = tl.where(take, chunk_at, {v})",
                     f"best_{member.name} = tl.where(take, chunk_best, best_{member.name})"]
            return [*init, "for r0 in range(0, R, BLOCK_R):", *[f"    {b}" for b in body], f"{v} = {v}[:, None]"]
        return [f"acc = tl.full([BLOCK_K, BLOCK_R], {neutral}, tl.float32)", "for r0 in range(0, R, BLOCK_R):",
                *[f"    {b}" for b in body], f"    acc = {accumulate(member.fn, 'acc', masked)}",
                f"{v} = ({reduce_call(member.fn, 'acc', 1)}{mean})[:, None]"]

    def stores_full(self) -> list[str]:
        n = self.names
        out_r = offset_of("os", self.reduced_dims, "i", "r")
        return [f"tl.store(o{i}_ptr + out_row[:, None] + ({out_r})[None, :], v_{o}, mask=mask)"
                for i, o in enumerate(n.outputs_full)]

    def lines(self) -> list[str]:
        lines = self.prologue()
        if not self.looped:
            lines += self.slice_lines("")
            lines += self.loads(self.names.full)
        for member in self.group.members:
            if member.kind == "reduce":
                lines += self.reduction(member)
            elif member.kind == "topk":
                lines += self.selection(member)
            elif self.group.picks(member):
                lines += self.picked_gather(member)
            elif self.group.levels[member.name] in ("reduced", "picked"):
                lines += self.computed(member)
            elif not self.looped and member.kind == "scan":
                lines += self.scan(member, {})
            elif not self.looped and member.kind == "window":
                lines += self.window(member)
            elif not self.looped and member.kind == "gemm":
                lines += self.product(member)
            elif not self.looped:
                lines += self.computed(member)
        lines += self.final_pass()
        lines += [f"tl.store(q{i}_ptr + k[:, None], v_{o}, mask=k_mask[:, None])"
                  for i, o in enumerate(self.names.outputs_reduced)]
        if self.names.outputs_picked:
            lines += picked_stores(self.names.outputs_picked, self.names.kept, self.reduced_dims[0])
        return lines

    def final_pass(self) -> list[str]:
        outputs = self.names.outputs_full
        if not outputs:
            return []
        if not self.looped:
            return self.stores_full()
        scans = [m for m in self.group.members if m.kind == "scan"]
        carries = {m.name: f"carry_{m.name}" for m in scans}
        init = [f"carry_{m.name} = tl.full([BLOCK_K], {SCAN_NEUTRAL[m.fn]}, tl.float32)" for m in scans]
        body = self.slice_lines("r0 + ") + self.full_values(outputs, carries) + self.stores_full()
        return [*init, "for r0 in range(0, R, BLOCK_R):", *[f"    {b}" for b in body]]


def reduction_kernels(group: FusionGroup, dtypes: dict[str, str], mode: MathMode) -> str:
    names = KernelNames(group)
    signature = names.signature(["K", "R"])
    product = ", BLOCK_D: tl.constexpr" if group.gemm() is not None else ""
    product += ", BLOCK_T: tl.constexpr" if group.selections() else ""
    parts = []
    for looped, suffix in ((False, "single"), (True, "loop"))[:1 if group.selections() else 2]:
        body = ReductionBody(group, dtypes, looped, mode).lines()
        header = (f"def _{group.name}_{suffix}({signature}, BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr"
                  f"{product}, WIDE: tl.constexpr):")
        parts.append(render(group, header, body))
    return "\n\n".join(parts)
