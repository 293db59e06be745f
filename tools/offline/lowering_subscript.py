"""Indexing by tensors (`t[:, rows, cols]`) as one gather step that reads `t` at several ids.

PyTorch broadcasts the index tensors together; their shape replaces the indexed dims where those are adjacent, and
goes first otherwise. The gather's `dims` say, for each of the table's dims, which result dim it follows (or
GATHERED), and each id is viewed so that it broadcasts from where its dims lie in the result: the kernel then
reads the table at one address per element, fused with what computes the ids and what reads the result. An id
that is a function of aranges (a triangle's rows) is recomputed under that view rather than viewed, so it stays
an index value that the gather's kernel computes instead of a tensor written first.
Negative ids count from the end, as in PyTorch; ids outside the table are masked and raise through the ok flag.
"""

from __future__ import annotations

from typing import Any

import torch

from .lowering import LoweringState
from .program import GATHERED, PrimStep, PyStep, Shape
from .traced import TracedNode, tag_of

_MASKS = {"torch.bool", "torch.uint8"}


def _producer(state: LoweringState, name: str) -> PrimStep | PyStep | None:
    return next((s for s in reversed(state.steps) if s.name == name), None)


def _unaliased(state: LoweringState, name: str) -> str:
    """The value `name` is another name for (`rows, cols = torch.triu_indices(...)` names the pair's values)."""
    step = _producer(state, name)
    while isinstance(step, PyStep) and step.code in state.tensors:
        name, step = step.code, _producer(state, step.code)
    return name


def padded(state: LoweringState, name: str, before: int, after: int) -> str:
    """`name` with `before` and `after` size-1 dims around its own: an elementwise step is computed again on its
    operands so padded (recomputation is what fusion does with it anyway), anything else is viewed."""
    name = _unaliased(state, name)
    if before == after == 0:
        return name
    shape = state.shape(name)
    wide = (1,) * before + shape + (1,) * after
    step = _producer(state, name)
    if isinstance(step, PrimStep) and step.fn == "identity" and not step.dims \
            and state.tensors[step.args[0]].dtype == step.shape.dtype:
        return padded(state, step.args[0], before, after)  # a name, not a conversion
    if isinstance(step, PrimStep) and step.kind == "pointwise" and not step.dims and not step.pieces():
        elementwise = set(step.elementwise_args())
        args = [padded(state, arg, before + len(shape) - len(state.shape(arg)), after)
                if isinstance(arg, str) and arg in elementwise else arg for arg in step.args]
        return state.emit_prim("pointwise", step.fn, args, shape_override=wide)
    code = f"{name}[{', '.join(['None'] * before + ['...'] + ['None'] * after)}]"
    view = state.emit_py(state.fresh(f"{name}_ids"), code, Shape(wide, state.tensors[name].dtype))
    if name in state.index_tensors:
        state.index_tensors.add(view)  # a view of an arange's stand-in (its start and step were applied already)
    return view


def _is_full_slice(state: LoweringState, item: Any) -> bool:
    return isinstance(item, dict) and "slice" in item and all(state.py(part) == "None" for part in item["slice"])


def index_by_tensors(state: LoweringState, node: TracedNode, base: str, items: list[Any]) -> None:
    """`base[items]` where some items are index tensors and the others slices or an Ellipsis."""
    tensors = {i: state.operand(item) for i, item in enumerate(items) if tag_of(item) in ("node", "param")}
    others = [item for i, item in enumerate(items) if i not in tensors]
    if any(not (isinstance(item, dict) and ("slice" in item or item.get("ellipsis"))) for item in others):
        state.decline(node, "by tensors alongside integers or None (only slices and an Ellipsis)")
        return
    if any(not isinstance(t, str) or state.tensors[t].dtype in _MASKS for t in tensors.values()):
        state.decline(node, "by a boolean mask (its result's size is data)")
        return
    if base in state.index_tensors or node.meta is None:
        state.decline(node, "of an arange by a tensor")
        return
    rank = len(state.shape(base))
    ellipses = [i for i, item in enumerate(others) if item.get("ellipsis")]
    if len(ellipses) > 1:
        state.decline(node, "with more than one Ellipsis")
        return
    # Each item's dim of the table (an Ellipsis stands for the dims no other item names).
    spread = rank - (len(items) - len(ellipses))
    position, dims_of_items = 0, []
    for item in items:
        dims_of_items.append(position)
        position += spread if isinstance(item, dict) and item.get("ellipsis") else 1
    if not all(_is_full_slice(state, item) for item in others if "slice" in item):
        # Slices are a view of the table first: every dim stays where it is.
        view = ", ".join(":" if i in tensors else state.py(item) for i, item in enumerate(items))
        base = state.emit_py(state.fresh(f"{base}_sliced"), f"{base}[{view}]",
                             Shape(_sliced_shape(state, base, items, tensors), state.tensors[base].dtype))
    picked = [dims_of_items[i] for i in sorted(tensors)]
    ids = [tensors[i] for i in sorted(tensors)]
    broadcast = tuple(torch.broadcast_shapes(*[state.shape(t) for t in ids]))
    adjacent = picked == list(range(picked[0], picked[0] + len(picked)))
    start = picked[0] if adjacent else 0  # where the ids' dims go in the result
    result_rank = rank - len(picked) + len(broadcast)
    followed = [d for d in range(rank) if d not in picked]

    def result_dim(d: int) -> int:
        if d in picked:
            return GATHERED
        if not adjacent:
            return len(broadcast) + followed.index(d)
        return d if d < start else d - len(picked) + len(broadcast)

    dims = tuple(result_dim(d) for d in range(rank))
    views = [padded(state, t, start + len(broadcast) - len(state.shape(t)), result_rank - start - len(broadcast))
             for t in ids]
    state.emit_prim("gather", "subscript", [base, *views], name=node.name, dims=dims,
                    shape_override=tuple(node.meta.shape))


def _sliced_shape(state: LoweringState, base: str, items: list[Any], tensors: dict[int, Any]) -> tuple[int, ...]:
    """The traced shape of `base` with its slices applied (index tensors' dims kept whole)."""
    probe = torch.empty(state.shape(base), device="meta")
    keys = tuple(slice(None) if i in tensors else Ellipsis if item.get("ellipsis") else
                 slice(*(state.value(part) for part in item["slice"])) for i, item in enumerate(items))
    return tuple(probe[keys].shape)
