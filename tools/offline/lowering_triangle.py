"""`torch.tril_indices` / `torch.triu_indices` as index values that kernels compute, never load.

A triangle's k-th (row, column) pair, in PyTorch's row-major order, is a closed form of k (formulas.py's
`_triangle`): the lower triangle's rows grow by one entry each until they are full, so the row of k solves a
quadratic, and the upper triangle read backwards is a lower triangle reflected. A table of pairs would have to be
written by a kernel of its own and read back by every reader; the closed form costs a square root per element
and fuses into whatever reads it (a gather by `t[:, rows, cols]`, arithmetic on the indices).

The count of pairs, which sizes the stand-in arange of k, is Python arithmetic on the sizes in the forward.

`torch.triu` / `torch.tril` of a tensor keep the elements on the kept side of a diagonal: a comparison of the
column index with the row index (two aranges, never allocated) and a `where`, computed in whatever kernel reads
it, so a causal mask built as `torch.ones(n, n).triu(1)` is never written.
"""

from __future__ import annotations

from .lowering import Handler, LoweringState
from .lowering_index import alias, arange_of
from .program import Scalar, Shape
from .traced import TracedNode


def _python(state: LoweringState, base: str, code: str) -> Scalar:
    """A size computed in the forward, passed to the kernels that read it."""
    return Scalar(state.emit_py(state.fresh(base), code), literal=False)


def _lower_offset(state: LoweringState, rows: Scalar, cols: Scalar, offset: Scalar, upper: bool) -> Scalar:
    """The offset of the lower triangle whose reflection (row n-1-r, column m-1-c) is the upper one of `offset`:
    c >= r + offset there is c' <= r' + m - n - offset here."""
    if not upper:
        return offset
    return _python(state, "tri_offset", f"{cols.expr} - {rows.expr} - ({offset.expr})")


def _count(state: LoweringState, rows: Scalar, cols: Scalar, offset: Scalar) -> Scalar:
    """How many pairs tril_indices(rows, cols, offset) gives: rows r0.. start with one entry and grow by one
    until r1, where they hold all `cols` (the same split `_triangle` makes)."""
    n, m, off = rows.expr, cols.expr, offset.expr
    r0 = _python(state, "tri_first", f"min(max(-({off}), 0), {n})").expr
    r1 = _python(state, "tri_full", f"min(max({m} - ({off}) - 1, {r0}), {n})").expr
    height, first = f"({r1} - {r0})", f"({r0} + ({off}) + 1)"
    return _python(state, "tri_count", f"{height} * {first} + {height} * ({height} - 1) // 2 + ({n} - {r1}) * {m}")


def _triangle(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    if node.meta is None or node.meta.dtype != "torch.int64":
        state.decline(node, "with a dtype other than int64")
        return
    rows, cols, offset = (state.operand(bound[key]) for key in ("row", "col", "offset"))
    if not all(isinstance(value, Scalar) for value in (rows, cols, offset)):
        state.decline(node, "with a tensor for a size or the offset")
        return
    upper = node.op == "triu_indices"
    lower_offset = _lower_offset(state, rows, cols, offset, upper)
    count = _count(state, rows, cols, lower_offset)
    k = arange_of(state, state.fresh(f"{node.op}_k"), count.expr, (node.meta.shape[1],), node.meta.dtype)
    flags = [Scalar(repr(upper), literal=True)]
    pair = [state.pw("triangle", k, rows, cols, lower_offset, count, *flags, Scalar(repr(column), literal=True))
            for column in (False, True)]
    # Only its two rows are read (`rows, cols = ...`, `t[0]`): a [2, K] tensor would be written to memory.
    state.tuples[node.name] = pair
    state.emit_py(node.name, f"({pair[0]}, {pair[1]})")


def _position(state: LoweringState, x: str, dim: int, size: int) -> str:
    """The index along `dim` (-2: rows, -1: columns) of `x`'s last two dims, as a broadcast view of an arange."""
    index = arange_of(state, state.fresh("position"), f"{x}.shape[{dim}]", (size,), "torch.int64")
    view, shape = ("view(-1, 1)", (size, 1)) if dim == -2 else ("view(1, -1)", (1, size))
    viewed = state.emit_py(state.fresh("position"), f"{index}.{view}", Shape(shape, "torch.int64"))
    alias(state, index, viewed)
    return viewed


def _triangular(state: LoweringState, node: TracedNode) -> None:
    """triu(x, d) keeps column - row >= d; tril(x, d) keeps column - row <= d; the rest is zero."""
    bound = state.bind(node)
    x = state.operand(bound["input"])
    if not isinstance(x, str) or len(state.shape(x)) < 2:
        state.decline(node, "of a tensor with fewer than two dims")
        return
    rows, cols = state.shape(x)[-2:]
    offset = state.pw("sub", _position(state, x, -1, cols), _position(state, x, -2, rows))
    keep = state.pw("ge" if node.op == "triu" else "le", offset, state.operand(bound["diagonal"]))
    if state.tensors[x].dtype == "torch.bool":  # a mask stays one: kernels compare with it, not with a float
        state.pw("logical_and", keep, x, name=node.name)
    else:
        state.pw("where", keep, x, Scalar("0", literal=True), name=node.name)


TRIANGLES: dict[str, Handler] = {"tril_indices": _triangle, "triu_indices": _triangle, "triu": _triangular,
                                 "tril": _triangular}
