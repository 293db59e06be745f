"""Indexed loads: embedding lookups, `index_select`, `gather` and `take_along_dim` as a `gather` primitive.

A gather reads a table at an address whose coordinate along one dim is a value (an id) and along the others
follows the iteration: its step's `dims` give, for each of the table's dims, the iteration dim it follows, or
GATHERED for the one the id picks. The id is an operand shaped like the iteration (a view of the index tensor
that broadcasts), so the gather fuses with the elementwise steps around it and nothing is materialised between.
"""

from __future__ import annotations

from .dtypes import is_integral
from .lowering import Handler, LoweringState
from .lowering_index import alias
from .program import GATHERED, Shape
from .traced import TracedNode


def _index_view(state: LoweringState, index: str, shape: tuple[int, ...], code: str) -> str:
    if index in state.recomputed:  # computed from a stand-in: computed again from the stand-in's view
        base, compute = state.recomputed[index]
        view = state.emit_py(state.fresh(f"{base}_view"), code.replace(index, base, 1),
                             Shape(shape, state.tensors[base].dtype))
        alias(state, base, view)
        return compute(view)
    return state.emit_py(state.fresh(f"{index}_ids"), code, Shape(shape, state.tensors[index].dtype))


def _emit(state: LoweringState, node: TracedNode, table: str, index: str, dims: tuple[int, ...], fn: str) -> None:
    """`fn`: "select" where the table's other sizes broadcast with the index's (an embedding, index_select,
    take_along_dim), "take" where the index is shaped like the result (gather: the table may be larger)."""
    state.emit_prim("gather", fn, [table, index], name=node.name, dims=dims,
                    shape_override=tuple(node.meta.shape) if node.meta is not None else state.shape(index))


def _embedding(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    if state.value(bound.get("max_norm")) is not None:
        state.decline(node, "with max_norm (it renormalises the table in place)")
        return
    table, ids = state.operand(bound["weight"]), state.operand(bound["input"])
    if not isinstance(table, str) or not isinstance(ids, str) or len(state.shape(table)) != 2:
        state.decline(node, "over anything but a 2-D table and an id tensor")
        return
    rank = len(state.shape(ids)) + 1
    index = _index_view(state, ids, (*state.shape(ids), 1), f"{ids}.unsqueeze(-1)")
    _emit(state, node, table, index, (GATHERED, rank - 1), "select")
    state.lookups[node.name] = (table, ids)


def _along_dim(state: LoweringState, node: TracedNode, source_arg: object, index_arg: object, dim_arg: object,
               how: str) -> None:
    """`how`: "index_select" (a 1-D index for one dim), "gather" (an index shaped like the result, no larger than
    the source) or "take_along_dim" (the source and the index broadcast against each other)."""
    source, index = state.operand(source_arg), state.operand(index_arg)
    dim = state.value(dim_arg)
    if not isinstance(source, str) or not isinstance(index, str) or not isinstance(dim, int):
        state.decline(node, "without a tensor, an index tensor and a constant dim")
        return
    rank = len(state.shape(source))
    dim %= max(rank, 1)
    if how == "index_select":
        view = [-1 if d == dim else 1 for d in range(rank)]
        shape = tuple(state.shape(index)[0] if d == dim else 1 for d in range(rank))
        index = _index_view(state, index, shape, f"{index}.view({view})")
    elif len(state.shape(index)) != rank:
        state.decline(node, "with an index of another rank than the source")
        return
    _emit(state, node, source, index, tuple(GATHERED if d == dim else d for d in range(rank)),
          "take" if how == "gather" else "select")


def _index_select(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    _along_dim(state, node, bound["input"], bound["index"], bound["dim"], "index_select")


def _gather(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    _along_dim(state, node, bound["input"], bound["index"], bound["dim"], "gather")


def _take_along_dim(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    if state.value(bound.get("dim")) is None:
        state.decline(node, "without a dim (over the flattened tensor)")
        return
    _along_dim(state, node, bound["input"], bound["indices"], bound["dim"], "take_along_dim")


def indexed_rows(state: LoweringState, node: TracedNode, index: object) -> bool:
    """`x[ids]` with one 1-D integer tensor is `x.index_select(0, ids)` (a negative id is outside the table, where
    PyTorch's indexing would count it from the end). False for any other index: the caller goes on."""
    ids = index.get("node") if isinstance(index, dict) and "node" in index else None
    dtype = state.tensors[ids].dtype if ids in state.tensors else "torch.bool"
    if not is_integral(dtype) or dtype == "torch.bool" or len(state.shape(ids)) != 1:
        return False
    _along_dim(state, node, node.args[0], index, {"const": 0}, "index_select")
    return True


GATHERS: dict[str, Handler] = {"embedding": _embedding, "index_select": _index_select, "gather": _gather,
                               "take_along_dim": _take_along_dim}
