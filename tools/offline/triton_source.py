"""One fusion group -> the source of its Triton kernels (reductions: reduction_source.py).

A pointwise group gets one kernel over the flattened output, with a `FLAT` fast path when every
operand is dense and output-shaped (no index arithmetic at all). A reduction group gets two: one
that holds `BLOCK_K` whole rows on chip (every input read once), and one that loops over slices of
the reduced extent, recomputing each reduction's operand from its loads. Operands are addressed
through their broadcast strides, so transposed, broadcast and strided inputs need no copies.
"""

from __future__ import annotations

from collections.abc import Callable

from .dtypes import FP32, computation_type, converted, kernel_type, literal
from .formulas import INTEGER, POINTWISE
from .fusion_groups import FusionGroup
from .program import GATHERED, PrimStep, Scalar
from .scatter_source import scatter_lines

NEUTRAL = {"sum": "0.0", "mean": "0.0", "prod": "1.0", "amax": 'float("-inf")', "amin": 'float("inf")',
            "argmax": 'float("-inf")', "argmin": 'float("inf")'}
SCAN_NEUTRAL = {"cumsum": "0.0", "cumprod": "1.0", "logcumsumexp": 'float("-inf")'}


class KernelNames:
    """The names a group's kernel arguments and values get, shared with its launcher."""

    def __init__(self, group: FusionGroup) -> None:
        self.group = group
        self.full = group.external("full")
        self.reduced = group.external("reduced")
        # Scatter members add into outputs of their own (family `c`), started from `starts` (scatter_source.py).
        self.scattered = group.scattered()
        self.starts = group.starts()
        self.outputs_full = [o for o in group.outputs if group.levels[o] == "full" and o not in self.scattered]
        self.outputs_reduced = [o for o in group.outputs if group.levels[o] == "reduced"]
        self.outputs_picked = [o for o in group.outputs if group.levels[o] == "picked"]
        self.scalars = group.scalars()
        self.windowed = group.windowed()
        self.gathered = group.gathered()
        self.gathered_rank = {t: len(next(m for m in group.members if m.kind == "gather" and m.args[0] == t).dims)
                              for t in self.gathered}
        self.tables = group.tables()
        self.pieces = group.pieces()
        self.index_inputs = group.index_inputs
        self.rank = len(group.shape)
        # A pooled tensor is (N, C, spatial...) under an iteration shape of (N, C, outputs..., taps...).
        self.window_rank = 2 + (self.rank - 2) // 2
        self.kept = [d for d in range(self.rank) if d not in group.reduced_dims]

    @property
    def checks_ids(self) -> bool:
        """Whether the kernel reads or writes at ids it must check (a gather's, a scatter's): it has an ok flag."""
        return bool(self.gathered or self.scattered)

    def table(self, tensor: str) -> str:
        """A sorted table as the search helper takes it: its pointer, length and stride."""
        i = self.tables.index(tensor)
        return f"t{i}_ptr, t{i}_n0, t{i}_st0"

    def operand(self, arg: str | Scalar) -> str:
        if isinstance(arg, Scalar):
            return arg.expr if arg.literal else f"s{self.scalars.index(arg.expr)}"
        if arg in self.group.levels:
            return f"v_{arg}"
        if arg in self.full:
            return f"x{self.full.index(arg)}"
        return f"y{self.reduced.index(arg)}"

    def signature(self, extra: list[str]) -> str:
        # A GEMM whose rows the group reduces: its operands (g0 @ g1, (M, D) and (D, N)) come first, D last of sizes.
        product = self.group.gemm() is not None
        ptrs = ["g0_ptr", "g1_ptr"] if product else []
        ptrs += [f"a{i}_ptr" for i in range(len(self.full))] + [f"b{i}_ptr" for i in range(len(self.reduced))]
        ptrs += [f"w{i}_ptr" for i in range(len(self.windowed))]
        ptrs += [f"p{i}_ptr" for i in range(len(self.pieces))] + [f"t{i}_ptr" for i in range(len(self.tables))]
        ptrs += [f"e{i}_ptr" for i in range(len(self.gathered))] + [f"c{i}_ptr" for i in range(len(self.scattered))]
        ptrs += ["ok_ptr"] if self.checks_ids else []
        ptrs += [f"o{i}_ptr" for i in range(len(self.outputs_full))]
        ptrs += [f"q{i}_ptr" for i in range(len(self.outputs_reduced))]
        ptrs += [f"u{i}_ptr" for i in range(len(self.outputs_picked))]
        strides = ["g0_st0", "g0_st1", "g1_st0", "g1_st1"] if product else []
        strides += [f"a{i}_st{d}" for i in range(len(self.full)) for d in range(self.rank)]
        strides += [f"b{i}_st{d}" for i in range(len(self.reduced)) for d in self.kept]
        strides += [f"os{d}" for d in range(self.rank)] if self.outputs_full else []
        strides += [f"ps{d}" for d in range(self.rank)] if self.outputs_picked else []
        strides += [f"w{i}_st{d}" for i in range(len(self.windowed)) for d in range(self.window_rank)]
        strides += [f"p{i}_st{d}" for i in range(len(self.pieces)) for d in range(self.rank)]
        strides += [f"t{i}_st0" for i in range(len(self.tables))]
        # Where an arange's view starts: its element at an offset is that offset plus this.
        strides += [f"{family}{i}_base" for family, tensors in (("a", self.full), ("b", self.reduced))
                    for i, tensor in enumerate(tensors) if tensor in self.index_inputs]
        strides += [f"e{i}_st{d}" for i, t in enumerate(self.gathered) for d in range(self.gathered_rank[t])]
        strides += [f"e{i}_n{d}" for i, t in enumerate(self.gathered) for d in range(self.gathered_rank[t])]
        strides += [f"c{i}_st{d}" for i in range(len(self.scattered)) for d in range(self.rank)]
        strides += [f"c{i}_n0" for i in range(len(self.scattered))]
        sizes = [f"n{d}" for d in range(self.rank)]
        sizes += [f"w{i}_n{d}" for i in range(len(self.windowed)) for d in range(2, self.window_rank)]
        sizes += [f"p{i}_n{d}" for i in range(len(self.pieces)) for d in range(self.rank)]
        sizes += [f"t{i}_n0" for i in range(len(self.tables))]
        sizes += ["D"] if product else []
        scalars = [f"s{i}" for i in range(len(self.scalars))]
        return ", ".join(ptrs + strides + sizes + extra + scalars)


def expression_of(names: KernelNames, member: PrimStep, dtypes: dict[str, str]) -> str:
    """A member's value, its operands converted to the type it computes in (dtypes.py)."""
    values = member.args[1:] if member.fn == "where" else member.args
    computation = computation_type(member.fn, member.shape.dtype, [dtypes[a] for a in values if isinstance(a, str)],
                                   [a for a in values if isinstance(a, Scalar)])
    operands = []
    for position, arg in enumerate(member.args):
        if arg in member.tables():
            operands.append(names.table(arg))
        elif isinstance(arg, Scalar) and arg.literal:
            operands.append(literal(arg, computation))
        elif member.fn == "where" and position == 0:
            operands.append(names.operand(arg))
        else:
            operands.append(converted(names.operand(arg), dtypes[arg] if isinstance(arg, str) else None, computation))
    integral = computation is not None and computation != FP32
    return (INTEGER if integral and member.fn in INTEGER else POINTWISE)[member.fn](*operands)


# A kernel's index along a dim of its group's shape: `i1` in a pointwise kernel, `j0[:, None]` or `i1[None, :]`
# (a kept or a reduced dim) in a reduction's.
IndexOf = Callable[[int], str]


def concatenation(names: KernelNames, member: PrimStep, dtypes: dict[str, str], index: IndexOf) -> list[str]:
    """A concatenation read in place: each piece is loaded where it holds the element (`at`, the position along
    the joined dim past the pieces before it, lies in its extent) and the element taken from the one that does.
    `index(d)`: the kernel's index along dim d of the group's shape."""
    dim, at = member.dims[0], f"at_{member.name}"
    computation = kernel_type(member.shape.dtype)
    lines, parts = [f"{at} = {index(dim)}"], []
    for k, tensor in enumerate(member.args):
        i = names.pieces.index(tensor)
        offset = " + ".join(f"{at if d == dim else index(d)} * p{i}_st{d}" for d in range(names.rank))
        inside, part = f"in_{member.name}_{k}", f"part_{member.name}_{k}"
        value = converted(load_of(f"p{i}_ptr", offset, inside, dtypes[tensor]), dtypes[tensor], computation)
        lines += [f"{inside} = mask & ({at} >= 0) & ({at} < p{i}_n{dim})", f"{part} = {value}",
                  f"{at} = {at} - p{i}_n{dim}"]
        parts.append((inside, part))
    chosen = parts[-1][1]
    for inside, part in reversed(parts[:-1]):
        chosen = f"tl.where({inside}, {part}, {chosen})"
    return [*lines[:-1], f"v_{member.name} = {chosen}"]


def member_lines(names: KernelNames, member: PrimStep, dtypes: dict[str, str], index: IndexOf) -> list[str]:
    """The lines that compute a full-level member; `index(d)` is the kernel's index along dim d."""
    if member.fn == "cat":
        return concatenation(names, member, dtypes, index)
    if member.kind == "gather":
        return gather_lines(names, member, dtypes)
    if member.kind == "scatter":
        return scatter_lines(names, member, dtypes)
    return [f"v_{member.name} = {expression_of(names, member, dtypes)}"]


# Index arithmetic is 32-bit unless the launcher finds an index or offset that could pass int32 (WIDE):
# 64-bit division and remainder, which strided and broadcast indexing do per element, cost several times more.
PROGRAM_ID = ["pid = tl.program_id(0)", "if WIDE:", "    pid = pid.to(tl.int64)"]


def decompose(index: str, dims: list[int], prefix: str) -> list[str]:
    """Per-dim indices of a linear index over `dims` (the last dim varies fastest).

    The remainder is named after the index: kept (int64 when WIDE) and reduced (int32) indices must not
    share a variable, or Triton sees a loop-carried variable change type.
    """
    if not dims:
        return []
    if len(dims) == 1:
        return [f"{prefix}{dims[0]} = {index}"]
    rest = f"rest_{prefix}"
    lines = [f"{rest} = {index}"]
    for d in reversed(dims[1:]):
        lines += [f"{prefix}{d} = {rest} % n{d}", f"{rest} = {rest} // n{d}"]
    return [*lines, f"{prefix}{dims[0]} = {rest}"]


def offset_of(prefix: str, dims: list[int], index_prefix: str, zero: str) -> str:
    return " + ".join(f"{index_prefix}{d} * {prefix}{d}" for d in dims) if dims else f"{zero} * 0"


def load_of(pointer: str, offset: str, mask: str, dtype: str) -> str:
    load = f"tl.load({pointer} + {offset}, mask={mask}, other=0)"
    if dtype == "torch.bool":
        return f"{load} != 0"
    return f"{load}.to(tl.float32)" if "float" in dtype else load


def read_of(names: KernelNames, tensor: str, family: str, offset: str, mask: str, dtype: str) -> str:
    """An operand's value at `offset`: loaded, or for an arange's stand-in the offset itself (from the view's
    start), so that an index is computed rather than read from memory."""
    if tensor in names.index_inputs:
        return f"({family}_base + {offset}).to({kernel_type(dtype)})"
    return load_of(f"{family}_ptr", offset, mask, dtype)


def pointwise_kernel(group: FusionGroup, dtypes: dict[str, str]) -> str:
    if any(m.fn == "index" for m in group.members):
        raise ValueError(f"{group.name}: an index along a dim is only generated inside a reduction")
    names = KernelNames(group)
    dims = list(range(names.rank))
    body = [*PROGRAM_ID, "offs = pid * BLOCK + tl.arange(0, BLOCK)", "mask = offs < N"]
    strided = decompose("offs", dims, "i") + [f"a{i}_off = {offset_of(f'a{i}_st', dims, 'i', 'offs')}"
                                              for i in range(len(names.full))]
    if names.pieces or names.checks_ids:  # pieces, a gather's table and a scatter's output are addressed per dim
        body += strided
    else:
        body += ["if FLAT:", *[f"    a{i}_off = offs" for i in range(len(names.full))], "else:",
                 *[f"    {line}" for line in strided or ["pass"]]]
    body += [f"x{i} = {read_of(names, t, f'a{i}', f'a{i}_off', 'mask', dtypes[t])}" for i, t in enumerate(names.full)]
    body += ["bad = offs < 0"] if names.checks_ids else []
    body += [line for m in group.members for line in member_lines(names, m, dtypes, lambda d: f"i{d}")]
    body += [f"tl.store(o{i}_ptr + offs, v_{o}, mask=mask)" for i, o in enumerate(names.outputs_full)]
    # Only a program that met an id outside its table writes the flag (the launcher raises on it).
    body += ["if tl.max(bad.to(tl.int32), axis=0) > 0:", "    tl.store(ok_ptr, False)"] if names.checks_ids else []
    header = (f"def _{group.name}({names.signature(['N'])}, BLOCK: tl.constexpr, FLAT: tl.constexpr, "
              "WIDE: tl.constexpr):")
    return render(group, header, body)


def gather_lines(names: KernelNames, member: PrimStep, dtypes: dict[str, str]) -> list[str]:
    """A table read at its ids, one per GATHERED dim in order (lowering_gather.py, lowering_subscript.py): masked
    where an id is outside the table, and counted as bad. Indexing by tensors (`subscript`) counts negative ids
    from the end, as PyTorch does. A guarded gather (an argument after its ids, a flag) reads only where its flag
    holds, and gives 0 elsewhere."""
    t = names.gathered.index(member.args[0])
    picked = [k for k, d in enumerate(member.dims) if d == GATHERED]
    index = {k: f"ids_{member.name}_{k}" for k in picked}
    valid = f"ok_{member.name}"
    guard = member.args[1 + len(picked):]
    read = f"mask & ({names.operand(guard[0])} != 0)" if guard else "mask"
    lines = [f"{valid} = {read}"]
    for k, ids in zip(picked, member.args[1:1 + len(picked)], strict=True):
        lines.append(f"{index[k]} = {names.operand(ids)}.to(tl.int64)")
        if member.fn == "subscript":
            lines.append(f"{index[k]} = tl.where({index[k]} < 0, {index[k]} + e{t}_n{k}, {index[k]})")
        lines.append(f"{valid} = {valid} & ({index[k]} >= 0) & ({index[k]} < e{t}_n{k})")
    address = " + ".join(f"{index[k]} * e{t}_st{k}" if d == GATHERED else f"i{d} * e{t}_st{k}"
                         for k, d in enumerate(member.dims))
    return [*lines, f"bad = bad | ({read} & ({valid} == 0))",
            f"v_{member.name} = {load_of(f'e{t}_ptr', address, valid, dtypes[member.args[0]])}"]


def render(group: FusionGroup, header: str, body: list[str]) -> str:
    what = ", ".join(f"{m.fn}" for m in group.members)
    return "@triton.jit\n" + header + f'\n    """{what}"""\n' + "\n".join(f"    {line}" for line in body) + "\n"
