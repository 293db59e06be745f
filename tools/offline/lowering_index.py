"""Aranges, sorted-table searches and concatenations: values that kernels address rather than load.

`torch.arange` becomes a stand-in: a meta tensor (no memory) whose element at any offset is that offset. Views
of it (`[None, :]`, `unsqueeze`, `expand`, a slice) are real views of the stand-in, so a kernel reading it
through its broadcast strides computes the arange's element there (offset plus the view's start) instead of
loading it; `start + step * index` is applied where a primitive reads a view (elementwise steps, which fusion
recomputes in each kernel that reads them).
`bucketize` and `searchsorted` over a 1-D table, and `cat` and `stack`, read their tables and pieces by address.
"""

from __future__ import annotations

from typing import Any

from .lowering import Handler, LoweringState, shape_of
from .program import Scalar, Shape
from .traced import TracedNode, tag_of

# Views of a stand-in that are views of it, never copies (a copy's offsets would no longer be its values).
INDEX_VIEWS = {"view", "view_as", "permute", "transpose", "t", "unsqueeze", "squeeze", "expand", "expand_as",
               "narrow", "select", "movedim", "unflatten", "getitem", "broadcast_to"}
# Reshapes are written as views: where one would copy, the forward raises instead of computing wrong indices.
_AS_VIEW = {"reshape": "view", "reshape_as": "view_as"}


def _arange(state: LoweringState, node: TracedNode) -> None:
    """`torch.arange([start,] end[, step])`: a stand-in for its index, then `start + step * index`."""
    names = ("start", "end", "step")
    given = dict(zip(names, node.args if len(node.args) > 1 else ({"const": 0}, *node.args), strict=False))
    given = {"start": {"const": 0}, "step": {"const": 1}} | given | {k: v for k, v in node.kwargs.items() if k in names}
    start, end, step = (given[name] for name in names)
    plain = state.value(start) == 0 and state.value(step) == 1
    length = state.py(end) if plain else f"math.ceil(({state.py(end)} - {state.py(start)}) / {state.py(step)})"
    arange_of(state, node.name, length, tuple(node.meta.shape), node.meta.dtype)
    if not plain:
        state.index_affine[node.name] = (state.operand(start), state.operand(step))


def arange_of(state: LoweringState, name: str, length: str, shape: tuple[int, ...], dtype: str) -> str:
    """A stand-in for `torch.arange(length)`: `length` is a Python expression, `shape` its traced value."""
    state.emit_py(name, f"torch.empty({length}, device='meta', dtype={dtype})", Shape(shape, dtype))
    state.index_tensors.add(name)
    return name


def index_view(state: LoweringState, node: TracedNode, code: str) -> bool:
    """Records a view of a stand-in; False when `node` does not read one. A copy of a stand-in is unsupported:
    its values would be offsets into the copy."""
    base = node.args[0].get("node") if tag_of(node.args[0]) == "node" else None
    if base not in state.index_tensors:
        return False
    if node.op not in INDEX_VIEWS and node.op not in _AS_VIEW:
        state.unsupported.append(f"{node.op} of an arange (a copy of an index)")
    for method, view in _AS_VIEW.items():
        code = code.replace(f".{method}(", f".{view}(", 1)
    state.emit_py(node.name, code, shape_of(node.meta))
    alias(state, base, node.name)
    return True


def alias(state: LoweringState, base: str, name: str) -> None:
    """`name` is a view of the stand-in `base` (or `base` itself under another name)."""
    state.index_tensors.add(name)
    if base in state.index_affine:
        state.index_affine[name] = state.index_affine[base]


def listed_items(listed: Any) -> list[Any]:
    """The tagged items of a traced list or tuple argument."""
    return listed["list"] if tag_of(listed) == "list" else [listed]


def _searched(state: LoweringState, node: TracedNode, x: Any, table: Any, right: bool, int32: bool) -> None:
    """bucketize(x, table, right) where x is a tensor and the table a 1-D tensor in memory (an int32 result is a
    conversion of the int64 count)."""
    values, boundaries = state.operand(x), state.operand(table)
    if not isinstance(values, str) or not isinstance(boundaries, str) or len(state.shape(boundaries)) != 1 \
            or boundaries in state.index_tensors:
        state.decline(node, "other than of a tensor over a 1-D table held in memory")
        return
    flag = Scalar(repr(right), literal=True)
    if int32:
        state.pw("identity", state.emit_prim("pointwise", "bucketize", [values, boundaries, flag],
                                             shape_override=state.shape(values)), name=node.name)
    else:
        state.emit_prim("pointwise", "bucketize", [values, boundaries, flag], name=node.name,
                        shape_override=state.shape(values))


def _bucketize(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    _searched(state, node, bound["input"], bound["boundaries"], bool(state.value(bound.get("right"))),
              bool(state.value(bound.get("out_int32"))))


def _searchsorted(state: LoweringState, node: TracedNode) -> None:
    """searchsorted(table, x, right) counts as bucketize(x, table, right) for a 1-D table."""
    bound = state.bind(node)
    if tag_of(bound.get("sorter")) in ("node", "param"):
        state.unsupported.append("searchsorted with a sorter")
    right = state.value(bound.get("side")) == "right" or bool(state.value(bound.get("right")))
    _searched(state, node, bound["input"], bound["sorted_sequence"], right, bool(state.value(bound.get("out_int32"))))


def _concatenate(state: LoweringState, node: TracedNode) -> None:
    """`cat` reads each element from the piece that holds it; `stack` is a cat of the pieces unsqueezed."""
    bound = state.bind(node)
    pieces = [state.operand(item) for item in listed_items(bound["tensors"])]
    if any(not isinstance(p, str) or p in state.index_tensors for p in pieces):
        state.decline(node, "of other than tensors held in memory")
        return
    rank = len(node.meta.shape)
    dim = int(state.value(bound.get("dim")) or 0) % rank
    if node.op == "stack":
        pieces = [state.emit_py(state.fresh("piece"), f"{p}.unsqueeze({dim})",
                                Shape((*node.meta.shape[:dim], 1, *node.meta.shape[dim + 1:]),
                                      state.tensors[p].dtype)) for p in pieces]
    # PyTorch skips a legacy empty 1-D piece in a concatenation of higher rank.
    pieces = [p for p in pieces if len(state.shape(p)) == rank]
    state.emit_prim("pointwise", "cat", pieces, name=node.name, dims=(dim,), shape_override=tuple(node.meta.shape))


INDEXING: dict[str, Handler] = {"arange": _arange, "bucketize": _bucketize, "searchsorted": _searchsorted,
                                "cat": _concatenate, "stack": _concatenate}
