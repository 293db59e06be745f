"""Constant tensors and assignment into them by a length mask (jagged to padded), as values, never as writes.

`buf = x.new_zeros(S, L, D)` is a constant computed where it is read (a fill of a stand-in of that shape).
`buf[arange(L)[None, :] < lengths[:, None]] = rows` (the tracer records it as `operator.setitem`) gives every
element of `buf` a value: element (s, j) of a row keeps `rows[start(s) + j]` where j is below the row's length
clamped to L, and `buf`'s own value elsewhere. That is a `where` over a guarded gather (read only where the mask
holds, so a position past the last row reads nothing), and from that node on `buf` names it (LoweringState.assigned):
the reference's in-place write becomes a value that fuses with whatever reads it. Rows selected by the same mask,
`buf[mask] = table[index[mask]]`, are read as `table[index[s, j]]` directly.
"""

from __future__ import annotations

from .dtypes import is_integral
from .lowering import Handler, LoweringState
from .lowering_repeat import index_along, length_mask, masked_ends
from .program import GATHERED, PrimStep, Scalar, Shape
from .traced import TracedNode, tag_of

_FILLS = {"zeros": "0.0", "new_zeros": "0.0", "ones": "1.0", "new_ones": "1.0"}


def _constant(state: LoweringState, node: TracedNode) -> None:
    """zeros / ones (and the `x.new_*` forms) of a size: a fill of a stand-in of that shape."""
    sizes = node.args[1:] if node.op.startswith("new_") else node.args
    if len(sizes) == 1 and tag_of(sizes[0]) == "list":
        sizes = sizes[0]["list"]
    # One size that is no int is a whole shape (`zeros(x.shape)`); otherwise each argument is one dim's size.
    whole = len(sizes) == 1 and not isinstance(state.value(sizes[0]), int)
    size = f"tuple({state.py(sizes[0])})" if whole else f"[{', '.join(state.py(s) for s in sizes)}]"
    shape = Shape(tuple(node.meta.shape), "torch.int64")
    stand_in = state.emit_py(state.fresh("shape"), f"torch.empty({size}, device='meta', dtype=torch.int64)", shape)
    state.index_tensors.add(stand_in)
    value = Scalar(_FILLS[node.op], literal=True)
    state.pw("fill", stand_in, value, name=node.name)
    state.recomputed[node.name] = (stand_in, lambda view: state.pw("fill", view, value))


def _setitem(state: LoweringState, node: TracedNode) -> None:
    target, key, value = node.args
    buffer, rows = state.operand(target), state.operand(value)
    mask = next((n for n in state.traced.nodes if tag_of(key) == "node" and n.name == key["node"]), None)
    found = length_mask(state, mask)
    rank = len(state.shape(buffer)) if isinstance(buffer, str) else 0
    if found is None or rank < 2 or state.shape(mask.name) != state.shape(buffer)[:2] \
            or not isinstance(rows, str) or len(state.shape(rows)) != rank - 1:
        state.decline(node, "other than `buffer[arange(L)[None, :] < lengths[:, None]] = rows` (rows back to back)")
        return
    # The pattern's buffer is made in the forward (zeros): an input, or a view or clone of one, is read as it.
    if buffer not in {step.name for step in state.steps if isinstance(step, PrimStep)}:
        state.decline(node, "into an input or a view (the write would reach another tensor)")
        return
    # A constant's size is its stand-in's: reading the constant's would make a kernel write it.
    sized = state.recomputed.get(buffer, (buffer,))[0]
    ends = masked_ends(state, *found, Scalar(f"{sized}.shape[1]", literal=False))
    segment = index_along(state, f"{sized}.shape[0]", state.shape(buffer)[0], rank, 0)
    position = index_along(state, f"{sized}.shape[1]", state.shape(buffer)[1], rank, 1)
    start = state.emit_prim("pointwise", "segment_start", [segment, ends], shape_override=state.shape(segment))
    end = state.emit_prim("pointwise", "segment_start", [state.pw("add", segment, Scalar("1", literal=True)), ends],
                          shape_override=state.shape(segment))
    keep = state.pw("lt", position, state.pw("sub", end, start))
    table, index = _selected_by_the_mask(state, key, value) or (rows, None)
    if index is None or len(state.shape(table)) != rank - 1 or state.shape(index) != state.shape(buffer)[:2]:
        table, ids = rows, state.pw("add", start, position)
    else:  # element (s, j) is table[index[s, j]]: read in place, not selected into rows and scattered back
        ids = state.emit_py(state.fresh(f"{index}_ids"), f"{index}.view({index}.shape + {(1,) * (rank - 2)!r})",
                            Shape((*state.shape(index), *(1,) * (rank - 2)), state.tensors[index].dtype))
    read = state.emit_prim("gather", "select", [table, ids, keep], dims=(GATHERED, *range(2, rank)),
                           shape_override=state.shape(buffer))
    state.assigned[target["node"]] = state.pw("where", keep, read, buffer)


def _selected_by_the_mask(state: LoweringState, key: object, value: object) -> tuple[str, str] | None:
    """(table, index) where the assigned rows are `table[index[mask]]` under the assignment's own mask."""
    nodes = {n.name: n for n in state.traced.nodes}
    rows = nodes.get(value["node"]) if tag_of(value) == "node" else None
    if rows is None or rows.op != "getitem" or tag_of(rows.args[1]) != "node":
        return None
    picked = nodes.get(rows.args[1]["node"])
    if picked is None or picked.op != "getitem" or picked.args[1] != key:
        return None
    table, index = state.operand(rows.args[0]), state.operand(picked.args[0])
    if not isinstance(table, str) or not isinstance(index, str) or index in state.index_tensors \
            or not is_integral(state.tensors[index].dtype) or state.tensors[index].dtype == "torch.bool":
        return None
    return table, index


ASSIGNMENTS: dict[str, Handler] = {"setitem": _setitem, **{name: _constant for name in _FILLS}}
