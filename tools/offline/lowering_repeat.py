"""Rows repeated by lengths (`repeat_interleave`) and rows picked by a length mask (padded to jagged), as addresses.

`repeat_interleave(x, lengths)` gives row r the row of x whose segment holds r. With `ends`, the running sum of the
lengths (segment_source's `_segment_ends` kernel), that segment is how many ends are at most r: a binary search of
the ends (bucketize's) in the kernel that reads the result. The result's rows are a stand-in of the total length
(lowering_index.py), so the segment id, arithmetic on it and `x.index_select(0, segment)` are computed where they
are read, never stored. `padded[arange(L) < lengths[:, None]]` walks the same way: row r of the result is element
r - start(seg) of padded row seg, where seg's length is its length clamped to [0, L].
The total (the last end) sizes the result: it is read on the host, as PyTorch's own operations read it.
"""

from __future__ import annotations

from collections.abc import Callable

from .lowering import LoweringState
from .lowering_index import alias
from .lowering_segments import given
from .program import GATHERED, Scalar, Shape
from .traced import TracedNode, tag_of

_INDEX = "torch.int64"
# A whole arange seen as a row or a column: its element at an offset is still that offset.
_WHOLE_VIEWS = {"unsqueeze", "view", "reshape", "expand", "getitem"}
# mask(position, length) -> how many leading positions of a row it keeps (1 more for an inclusive bound), with the
# comparison written either way round.
_KEEPS_LEADING = {("lt", 0): 0, ("le", 0): 1, ("gt", 1): 0, ("ge", 1): 1}


def _ends(state: LoweringState, lengths: str) -> str:
    count = state.shape(lengths)[0]
    return state.emit_py(state.fresh("ends"), f"_segment_ends({lengths})", Shape((count,), _INDEX))


def index_along(state: LoweringState, count: str, total: int, rank: int, dim: int) -> str:
    """A stand-in for the result's index along `dim` (size 1 along the others of `rank` dims): `count` is a Python
    expression of its length, `total` that length at the traced configuration."""
    rows = state.emit_py(state.fresh("rows"), f"torch.empty({count}, device='meta', dtype={_INDEX})",
                         Shape((total,), _INDEX))
    state.index_tensors.add(rows)
    if rank == 1:
        return rows
    shape = tuple(total if d == dim else 1 for d in range(rank))
    view = state.emit_py(state.fresh("rows"), f"{rows}.view({[-1 if d == dim else 1 for d in range(rank)]})",
                         Shape(shape, _INDEX))
    alias(state, rows, view)
    return view


# (state, a view of the rows, the name to give the value or None) -> each row's segment there.
SegmentOf = Callable[[LoweringState, str, str | None], str]


def _segment_of(ends: str) -> SegmentOf:
    """A row's segment: how many segment ends are at most its index (empty segments end where the one before does)."""
    return lambda state, rows, name: state.emit_prim(
        "pointwise", "bucketize", [rows, ends, Scalar("True", literal=True)], name=name,
        shape_override=state.shape(rows))


def _arange_node(state: LoweringState, name: str) -> TracedNode | None:
    return next((n for n in state.traced.nodes if n.name == name and n.op == "arange"), None)


def _repeat_interleave(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    first = state.operand(bound["input"])
    repeats = state.operand(bound["repeats"]) if given(state, bound.get("repeats")) else None
    # The one-argument form repeats each segment's index by its length: the values are an arange.
    values, repeats = (None, first) if repeats is None else (first, repeats)
    if values is not None and not isinstance(values, str):
        state.decline(node, "of a scalar")
        return
    rank = len(state.shape(values)) if values is not None else 1
    dim = state.value(bound.get("dim"))
    if dim is None and rank != 1:
        state.decline(node, "without a dim over a tensor of more than one dim (it repeats the flattened tensor)")
        return
    dim = int(dim or 0) % rank
    if isinstance(repeats, str) and len(state.shape(repeats)) != 1:
        state.decline(node, "with repeats that are not a 1-D tensor")
        return
    if isinstance(repeats, Scalar) and values is None:
        state.decline(node, "of a scalar")
        return
    # An arange is read as its stand-in (the operand is its values, `start + step * index`, computed).
    stand_in = bound["input"].get("node") if values is not None and tag_of(bound["input"]) == "node" else None
    if stand_in in state.index_tensors and _arange_node(state, stand_in) is None:
        state.decline(node, "of a view of an arange")
        return
    total = int(node.meta.shape[dim]) if node.meta is not None else 0
    sized = stand_in if stand_in in state.index_tensors else values
    segments = f"{sized}.shape[{dim}]" if sized is not None else f"{repeats}.shape[0]"
    if isinstance(repeats, str):
        ends = _ends(state, repeats)
        segment_of = _segment_of(ends)
        count = state.py(bound["output_size"]) if given(state, bound.get("output_size")) \
            else f"_segment_rows({ends}, {segments})"
    else:
        def segment_of(state: LoweringState, rows: str, name: str | None) -> str:
            return state.pw("floor_divide", rows, repeats, name=name)
        count = f"{segments} * {repeats.expr}"
    if values is None or stand_in in state.index_tensors:
        _segment_values(state, node, stand_in, segment_of, index_along(state, count, total, 1, 0))
        return
    rows = index_along(state, count, total, rank, dim)
    state.emit_prim("gather", "select", [values, segment_of(state, rows, None)], name=node.name,
                    dims=tuple(GATHERED if d == dim else d for d in range(rank)), shape_override=tuple(node.meta.shape))


def _segment_values(state: LoweringState, node: TracedNode, arange: str | None, segment_of: SegmentOf,
                    rows: str) -> None:
    """The repeated elements of an arange (or the segment indices themselves): its start plus its step times the
    segment, recomputed from any view of the rows that a gather reads them through."""
    start, step = state.index_affine.get(arange, (None, None)) if arange is not None else (None, None)

    def compute(view: str, name: str | None = None) -> str:
        if step is None:
            return segment_of(state, view, name)
        return state.pw("add", state.pw("mul", segment_of(state, view, None), step), start, name=name)

    compute(rows, node.name)
    state.recomputed[node.name] = (rows, compute)


def _whole_arange(state: LoweringState, nodes: dict[str, TracedNode], name: str) -> bool:
    """Whether `name` is `arange(L)` (from 0, step 1) or a view of it that adds dims only."""
    node = nodes.get(name)
    if node is None or name not in state.index_tensors:
        return False
    if node.op == "arange":
        return name not in state.index_affine
    if node.op == "getitem":
        items = node.args[1]["list"] if tag_of(node.args[1]) == "list" else [node.args[1]]
        if not all(state.value(item) is None and ("slice" not in item or all(
                state.value(part) is None for part in item["slice"])) for item in items):
            return False
    elif node.op not in _WHOLE_VIEWS:
        return False
    return tag_of(node.args[0]) == "node" and _whole_arange(state, nodes, node.args[0]["node"])


def length_mask(state: LoweringState, mask: TracedNode | None) -> tuple[str, int] | None:
    """(lengths, as a column, and 1 for an inclusive bound) where `mask` is `arange(L)[None, :] < lengths[:, None]`
    or a form of it that keeps a row's leading positions."""
    if mask is None or len(mask.args) != 2 or not all(tag_of(arg) == "node" for arg in mask.args):
        return None
    nodes = {n.name: n for n in state.traced.nodes}
    for position in (0, 1):
        if (mask.op, position) not in _KEEPS_LEADING:
            continue
        index, lengths = mask.args[position]["node"], mask.args[1 - position]["node"]
        if _whole_arange(state, nodes, index) and len(state.shape(index)) == 2 and state.shape(index)[0] == 1 \
                and lengths not in state.index_tensors and len(state.shape(lengths)) == 2 \
                and state.shape(lengths)[1] == 1:
            return lengths, _KEEPS_LEADING[(mask.op, position)]
    return None


def masked_ends(state: LoweringState, column: str, inclusive: int, width: Scalar) -> str:
    """The segment ends of a length mask's rows (length_mask): each row keeps its length (plus `inclusive`)
    clamped to [0, width] positions."""
    lengths = state.emit_py(state.fresh("lengths"), f"{column}.reshape(-1)",
                            Shape((state.shape(column)[0],), state.tensors[column].dtype))
    kept = state.pw("add", lengths, Scalar("1", literal=True)) if inclusive else lengths
    return _ends(state, state.pw("clamp", kept, Scalar("0", literal=True), width))


def masked_rows(state: LoweringState, node: TracedNode, index: object) -> bool:
    """`padded[mask]` by a boolean tensor: written where the mask keeps each row's leading positions (padded to
    jagged), declined by name otherwise. False where `index` is no boolean tensor (the caller goes on)."""
    mask = index["node"] if tag_of(index) == "node" else None
    if mask not in state.tensors or state.tensors[mask].dtype != "torch.bool":
        return False
    padded = state.operand(node.args[0])
    found = length_mask(state, next((n for n in state.traced.nodes if n.name == mask), None))
    if found is None or not isinstance(padded, str) or len(state.shape(padded)) < 2 \
            or state.shape(mask) != state.shape(padded)[:2]:
        state.decline(node, "by a boolean mask other than `padded[arange(L)[None, :] < lengths[:, None]]`")
        return True
    segments, width, *rest = state.shape(padded)
    size = Scalar(f"{padded}.shape[1]", literal=False)
    ends = masked_ends(state, *found, size)
    total = int(node.meta.shape[0]) if node.meta is not None else 0
    rows = index_along(state, f"_segment_rows({ends}, {padded}.shape[0])", total, 1 + len(rest), 0)
    segment = _segment_of(ends)(state, rows, None)
    start = state.emit_prim("pointwise", "segment_start", [segment, ends], shape_override=state.shape(rows))
    flat = state.pw("add", state.pw("mul", segment, size), state.pw("sub", rows, start))
    table = state.emit_py(state.fresh("flat"), f"{padded}.flatten(0, 1)",
                          Shape((segments * width, *rest), state.tensors[padded].dtype))
    state.emit_prim("gather", "select", [table, flat], name=node.name, dims=(GATHERED, *range(1, 1 + len(rest))),
                    shape_override=tuple(node.meta.shape))
    return True


REPEATS = {"repeat_interleave": _repeat_interleave}
