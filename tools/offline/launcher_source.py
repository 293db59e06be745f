"""One fusion group -> the Python function that allocates its outputs and launches its kernel."""

from __future__ import annotations

from .configs import GroupConfig
from .fusion_groups import FusionGroup
from .program import GATHERED, PrimStep
from .scatter_source import OUTSIDE_OUTPUT, scatter_starts
from .sorted_scatter_source import sorted_launch
from .split_reduction import plan as split_plan
from .split_source import kernel_names as split_kernel_names
from .split_source import split_launch
from .triton_source import KernelNames
from .window_source import ADAPTIVE_WINDOWS

# A gather's bad id is PyTorch's asynchronous assertion (a device-side assert on a GPU, as its own indexing kernels
# give), raised from a flag the kernel sets, so that a valid call pays no host synchronisation.
OUTSIDE_TABLE = "an index outside the tensor it selects from"
LARGER_INDEX = "gather's index is larger than its source along a dim it does not pick"
# Gathers whose table's other sizes broadcast with the ids' (not torch.gather's "take", whose ids give them all).
SELECTING = ("select", "subscript")
TOPK_RANGE = "selected index k out of range"  # PyTorch's words


def out_dtype(dtypes: dict[str, str], name: str) -> str:
    """A kernel's output is stored in the dtype the reference gives that value, intermediate buffers included.

    In a half regime this halves the bytes between kernels against fp32 buffers, and rounds each buffer once to
    the regime's unit roundoff, as the reference itself rounds after every operation (the kernels compute in fp32).
    """
    return dtypes[name]


def _meets_dropped(group: FusionGroup, tensor: str) -> bool:
    """Whether the members reading `tensor` are shaped like a reduction's result without its reduced dims."""
    readers = [m for m in group.members if tensor in m.tensor_args()]
    return any(m.shape.dims == group.kept_shape(False) != group.kept_shape(True) for m in readers)


def _selected_shapes(group: FusionGroup, names: KernelNames) -> list[str]:
    """The sizes a selecting gather's table gives the iteration (an embedding's row width), as shapes to broadcast:
    its ids give the other dims."""
    shapes = []
    for member in group.members:
        if member.kind == "gather" and member.fn in SELECTING and not group.picks(member):
            table = f"e{names.gathered.index(member.args[0])}"
            sizes = [1] * len(group.shape)
            for k, d in enumerate(member.dims):
                if d != GATHERED:
                    sizes[d] = f"{table}.shape[{k}]"
            shapes.append(f"({', '.join(map(str, sizes))},)")
    return shapes


def _broadcast_tables(group: FusionGroup, names: KernelNames) -> list[str]:
    """A selecting gather's table of size 1 along a dim it follows reads its one row there (stride 0)."""
    lines = []
    for member in group.members:
        if member.kind == "gather" and member.fn in SELECTING and not group.picks(member):
            table = f"e{names.gathered.index(member.args[0])}"
            sizes = ", ".join(f"{table}.shape[{k}]" if d == GATHERED else f"shape[{d}]"
                              for k, d in enumerate(member.dims))
            lines.append(f"{table} = {table}.broadcast_to(({sizes},))")
    return lines


def _concatenated_shape(names: KernelNames, member: PrimStep) -> str:
    """A concatenation's shape: its first piece's, with the pieces' extents along the joined dim summed."""
    dim = member.dims[0]
    first = f"p{names.pieces.index(member.args[0])}"
    extent = " + ".join(f"p{names.pieces.index(t)}.shape[{dim}]" for t in member.args)
    return f"torch.Size([*{first}.shape[:{dim}], {extent}, *{first}.shape[{dim + 1}:]])"


def _checked_takes(group: FusionGroup, names: KernelNames) -> list[str]:
    """torch.gather's index may be no larger than its source along the dims it does not pick (PyTorch raises):
    checked on the shapes, on the host, so the kernel never reads past the source."""
    lines = []
    for member in group.members:
        if member.kind == "gather" and member.fn == "take" and not group.picks(member):
            table = f"e{names.gathered.index(member.args[0])}"
            pairs = ", ".join(f"({d}, {k})" for k, d in enumerate(member.dims) if d != GATHERED)
            lines += [f"if any(shape[d] > {table}.shape[k] for d, k in ({pairs},)):",
                      f"    raise RuntimeError({(group.name + ': ' + LARGER_INDEX)!r})"]
    return lines


def launcher_name(group: FusionGroup) -> str:
    return f"_launch_{group.name}"


def launcher_arguments(group: FusionGroup) -> list[str]:
    """What the forward passes, in order: a GEMM's or a segment reduction's own operands, tensors read at full
    then reduced level, then scalars."""
    names = KernelNames(group)
    head = group.head()
    operands = head.tensor_args() if head is not None else []
    return [*operands, *names.full, *names.reduced, *names.windowed, *names.pieces, *names.tables, *names.gathered,
            *names.starts, *names.scalars]


def keyword_arguments(parameters: dict[str, str], values: dict[str, str]) -> str:
    """A launch's runtime arguments by keyword: `parameters` are a kernel's (positional -> its name, see
    kernel_naming.py), `values` what the launcher passes for each positional name."""
    return ", ".join(f"{name}={values[positional]}" for positional, name in parameters.items())


def _kernel_values(group: FusionGroup, names: KernelNames, outputs: list[str]) -> dict[str, str]:
    """Positional kernel parameter -> the launcher's expression for it (see KernelNames.signature); the counts
    are the launcher's `n` (elements), `kept` (rows) and `extent` (row length)."""
    values = {f"{o}_ptr": o for o in outputs}
    product = group.gemm()
    if product is not None:
        # g0 @ g1 is (M, N): a linear layer's weight is (N, D), read transposed through swapped strides.
        g1_dims = (1, 0) if product.fn == "linear" else (0, 1)
        values |= {"g0_ptr": "g0", "g1_ptr": "g1", "g0_st0": "g0.stride(0)", "g0_st1": "g0.stride(1)",
                   "g1_st0": f"g1.stride({g1_dims[0]})", "g1_st1": f"g1.stride({g1_dims[1]})", "D": "g0.shape[1]"}
    for i in range(len(names.full)):
        values |= {f"a{i}_ptr": f"a{i}", **{f"a{i}_st{d}": f"a{i}.stride({d})" for d in range(names.rank)}}
    for i in range(len(names.reduced)):
        values |= {f"b{i}_ptr": f"b{i}", **{f"b{i}_st{d}": f"b{i}.stride({d})" for d in names.kept}}
    for i in range(len(names.windowed)):
        values |= {f"w{i}_ptr": f"w{i}", **{f"w{i}_st{d}": f"w{i}.stride({d})" for d in range(names.window_rank)},
                   **{f"w{i}_n{d}": f"w{i}.shape[{d}]" for d in range(2, names.window_rank)}}
    for i in range(len(names.pieces)):
        values |= {f"p{i}_ptr": f"p{i}", **{f"p{i}_st{d}": f"p{i}.stride({d})" for d in range(names.rank)},
                   **{f"p{i}_n{d}": f"p{i}.shape[{d}]" for d in range(names.rank)}}
    for i in range(len(names.tables)):
        values |= {f"t{i}_ptr": f"t{i}", f"t{i}_st0": f"t{i}.stride(0)", f"t{i}_n0": f"t{i}.shape[0]"}
    for family, tensors in (("a", names.full), ("b", names.reduced)):
        values |= {f"{family}{i}_base": f"{family}{i}.storage_offset()" for i, tensor in enumerate(tensors)
                   if tensor in names.index_inputs}
    for i, table in enumerate(names.gathered):
        rank = names.gathered_rank[table]
        values |= {f"e{i}_ptr": f"e{i}", **{f"e{i}_st{d}": f"e{i}.stride({d})" for d in range(rank)},
                   **{f"e{i}_n{d}": f"e{i}.shape[{d}]" for d in range(rank)}}
    for i in range(len(names.scattered)):
        values |= {f"c{i}_ptr": f"c{i}", f"c{i}_n0": f"c{i}.shape[0]",
                   **{f"c{i}_st{d}": f"c{i}.stride({d})" for d in range(names.rank)}}
    values |= {"ok_ptr": "ok"} if names.checks_ids else {}
    values |= {f"os{d}": f"o0.stride({d})" for d in range(names.rank)} if names.outputs_full else {}
    values |= {f"u{i}_ptr": f"u{i}" for i in range(len(names.outputs_picked))}
    values |= {f"ps{d}": f"u0.stride({d})" for d in range(names.rank)} if names.outputs_picked else {}
    values |= {f"n{d}": f"shape[{d}]" for d in range(names.rank)}
    values |= {f"s{i}": f"s{i}" for i in range(len(names.scalars))}
    return values | {"N": "n", "K": "kept", "R": "extent", "partials_ptr": "partials", "SPLITS": "splits",
                     "SPAN": "span"}


def launcher(group: FusionGroup, config: GroupConfig, dtypes: dict[str, str], kernels: dict[str, dict[str, str]],
             follow_layout: bool = False, sorted_scatter: bool = False) -> str:
    """`kernels`: the runtime parameters each of the group's kernels keeps (kernel_naming.readable_kernels).
    `follow_layout`: an elementwise kernel walks its first operand's memory order, and its outputs take that
    layout (a channels-last convolution's epilogue reads and writes contiguously, with no conversion kernel)."""
    names = KernelNames(group)
    full = [f"a{i}" for i in range(len(names.full))]
    reduced = [f"b{i}" for i in range(len(names.reduced))]
    windowed = [f"w{i}" for i in range(len(names.windowed))]
    pieces = [f"p{i}" for i in range(len(names.pieces))]
    tables = [f"t{i}" for i in range(len(names.tables))]
    gathered = [f"e{i}" for i in range(len(names.gathered))]
    starts = [f"u{i}" for i in range(len(names.starts))]
    scattered = [f"c{i}" for i in range(len(names.scattered))]
    scalars = [f"s{i}" for i in range(len(names.scalars))]
    windows = group.window_members()
    product = group.gemm()
    gemm = ["g0", "g1"] if product is not None else []
    if product is not None:
        columns = "g1.shape[0]" if product.fn == "linear" else "g1.shape[1]"
        lines = [f"shape = torch.Size([g0.shape[0], {columns}])"]
    elif windows:
        # The iteration shape is the pooled tensor's (N, C), its output sizes, then the window's taps.
        settings = ", ".join(names.operand(a) for a in windows[0].args[1:])
        shaped = "_adaptive_window_shape" if windows[0].fn in ADAPTIVE_WINDOWS else "_window_shape"
        lines = [f"shape = {shaped}(w0.shape, {settings})"]
    else:
        shapes = [f"{a}.shape" for a in full] + [_concatenated_shape(names, m) for m in group.members if m.pieces()]
        shapes += _selected_shapes(group, names)
        lines = [f"shape = torch.broadcast_shapes({', '.join(shapes)}{',' if len(shapes) == 1 else ''})"]
    # A scatter addresses its output by the iteration's own dims: it walks them in order.
    walks_layout = follow_layout and group.kind == "pointwise" and not scattered
    if walks_layout:
        lines.append("order = _memory_order(a0, shape)")
        lines += [f"{a} = {a}.broadcast_to(shape).permute(order)" for a in full]
        lines += ["shape = torch.Size([shape[d] for d in order])",
                  f"flat = {' and '.join(f'{a}.is_contiguous()' for a in full)}"]
    elif group.kind == "pointwise" and pieces:
        lines.append("flat = False  # a concatenation's pieces are addressed through per-dim indices")
    elif group.kind == "pointwise":
        dense = " and ".join(f"{a}.shape == shape and {a}.is_contiguous()" for a in full)
        lines.append(f"flat = {dense}")
    if not walks_layout:
        lines += [f"{a} = {a}.broadcast_to(shape)" for a in full]
    lines += _broadcast_tables(group, names) + _checked_takes(group, names)
    reduced_dims = tuple(group.reduced_dims)
    lines += [f"{b} = _reduced_operand({b}, shape, {reduced_dims!r}, {_meets_dropped(group, tensor)})"
              for b, tensor in zip(reduced, names.reduced, strict=True)]
    # An arange's stand-in lives on the meta device: the outputs go where a tensor read from memory is.
    real = [a for a, tensor in zip(full + reduced, names.full + names.reduced, strict=True)
            if tensor not in names.index_inputs]
    device = f"{(gemm + real + windowed + pieces + tables + gathered)[0]}.device"
    outputs = []
    for i, name in enumerate(names.outputs_full):
        lines.append(f"o{i} = torch.empty(shape, device={device}, dtype={out_dtype(dtypes, name)})")
        outputs.append(f"o{i}")
    kept_expr = f"[1 if d in {reduced_dims!r} else size for d, size in enumerate(shape)]"
    for i, name in enumerate(names.outputs_reduced):
        member = next(m for m in group.members if m.name == name)
        keep = member.keepdim if member.kind == "reduce" else len(member.shape.dims) == len(group.shape)
        shape = kept_expr if keep else f"[size for d, size in enumerate(shape) if d not in {reduced_dims!r}]"
        lines.append(f"q{i} = torch.empty({shape}, device={device}, dtype={out_dtype(dtypes, name)})")
        outputs.append(f"q{i}")
    lines += scatter_starts(names, device)
    selections = group.selections()
    if selections:  # top-k outputs: k along the reduced dim
        lines.append(f"top = {names.operand(selections[0].args[1])}")
    for i, name in enumerate(names.outputs_picked):
        shape = f"[top if d in {reduced_dims!r} else size for d, size in enumerate(shape)]"
        lines.append(f"u{i} = torch.empty({shape}, device={device}, dtype={out_dtype(dtypes, name)})")
        outputs.append(f"u{i}")
    pointers = gemm + full + reduced + windowed + pieces + tables + gathered + outputs + scattered
    lines += [f"ok = torch.ones(1, device={device}, dtype=torch.bool)"] if names.checks_ids else []
    values = _kernel_values(group, names, outputs)
    wide = f"wide = _needs_int64(shape, {', '.join(pointers)})"
    if group.kind != "pointwise":
        lines += [f"kept = math.prod(size for d, size in enumerate(shape) if d not in {reduced_dims!r})",
                  f"extent = math.prod(shape[d] for d in {reduced_dims!r})"]
    if selections:
        lines.append(f"if not 0 <= top <= extent:\n        raise RuntimeError({TOPK_RANGE!r})")
    if config.splits:
        plan = split_plan(group)
        arguments = {name: keyword_arguments(kernels[name], values) for name in split_kernel_names(group, plan)}
        lines += split_launch(group, config, plan, arguments, pointers, device)
    elif sorted_scatter:  # rows sorted by destination, reduced per output row (sorted_scatter_source.py)
        kernel = f"_{group.name}_sorted"
        arguments = values | {"N": "shape[0]", "keys_ptr": "keys", "order_ptr": "order"}
        lines += sorted_launch(group, config, keyword_arguments(kernels[kernel], arguments))
    elif group.kind == "pointwise":
        lines += [wide, "n = math.prod(shape)",
                  f"grid = (triton.cdiv(n, {config.block}),)",
                  f"_{group.name}[grid]({keyword_arguments(kernels[f'_{group.name}'], values)}, "
                  f"BLOCK={config.block}, FLAT=flat, WIDE=wide, num_warps={config.warps})"]
    else:
        inner = f"BLOCK_D={config.tile_k}, " if product is not None else ""

        def launch(form: str, block_r: str) -> str:
            kernel = f"_{group.name}_{form}"
            return (f"{kernel}[grid]({keyword_arguments(kernels[kernel], values)}, BLOCK_K={config.rows}, "
                    f"BLOCK_R={block_r}, {inner}WIDE=wide, num_warps={config.warps})")
        # tl.dot takes blocks of at least 16 in each dim.
        whole_row = "max(16, triton.next_power_of_2(extent))" if product is not None else \
            "triton.next_power_of_2(extent)"
        lines += [wide, f"grid = (triton.cdiv(kept, {config.rows}),)"]
        if selections:  # a top-k selection makes k passes over the whole row, held on chip
            inner += "BLOCK_T=max(1, triton.next_power_of_2(top)), "
            lines.append(launch("single", whole_row))
        else:
            lines += [f"if extent <= {config.single_max}:  # whole rows on chip: every input read once",
                      f"    {launch('single', whole_row)}",
                      "else:",
                      f"    {launch('loop', str(config.chunk))}"]
    bad_ids = " or ".join([OUTSIDE_TABLE] * bool(gathered) + [OUTSIDE_OUTPUT] * bool(scattered))
    lines += [f"torch._assert_async(ok, {(group.name + ': ' + bad_ids)!r})"] if names.checks_ids else []
    if walks_layout:
        lines.append("back = [order.index(d) for d in range(len(order))]")
        outputs = [f"{o}.permute(back)" for o in outputs]
    # In the order of the group's outputs, as the forward unpacks them.
    written = dict(zip(names.outputs_full + names.outputs_reduced + names.outputs_picked + names.scattered,
                       outputs + scattered, strict=True))
    returned = [written[name] for name in group.outputs]
    lines.append(f"return {', '.join(returned)}{',' if len(returned) == 1 else ''}")
    signature = ", ".join(gemm + full + reduced + windowed + pieces + tables + gathered + starts + scalars)
    return f"def {launcher_name(group)}({signature}):\n" + "\n".join(f"    {line}" for line in lines) + "\n"


REDUCED_OPERAND_SOURCE = '''def _reduced_operand(t, shape, reduced, dropped):
    """A per-row operand broadcast to the kept shape.

    `dropped`: it meets a reduction's result without the reduced dims, so it aligns (from the right)
    with that shape, and the reduced dims are put back as size 1.
    """
    if dropped:
        t = t.broadcast_to([size for d, size in enumerate(shape) if d not in reduced])
        for d in reduced:
            t = t.unsqueeze(d)
    return t.broadcast_to([1 if d in reduced else size for d, size in enumerate(shape)])
'''


MEMORY_ORDER_SOURCE = '''def _memory_order(t, shape):
    """The dims from the slowest to the fastest in `t`'s memory (ties keep their order), e.g. (0, 2, 3, 1) for a
    channels-last NCHW tensor; row-major order for an operand that is broadcast."""
    if t.shape != shape:
        return list(range(len(shape)))
    return sorted(range(len(shape)), key=lambda d: -t.stride(d))
'''


INDEX_WIDTH_SOURCE = '''def _needs_int64(shape, *tensors):
    """Whether an index over `shape`, or an offset into one of `tensors`, could pass int32 (with room for
    the lanes of a last block past the end): the kernel then does its index arithmetic in int64."""
    spans = [1 + sum((n - 1) * abs(s) for n, s in zip(t.shape, t.stride())) for t in tensors if t.numel()]
    return max([math.prod(shape), *spans]) >= 2**31 - 2**20
'''
