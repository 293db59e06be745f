"""Reductions over runs of rows whose bounds are data: embedding bags and segment reductions.

`F.embedding_bag` (and `nn.EmbeddingBag`) picks rows of a table by id and reduces each bag; `torch.segment_reduce`
reduces runs of a jagged tensor's rows. Both become one `segment` primitive (program.SegmentSpec), whose sizes
(how many segments, how long each is) are read from the inputs at run time, never from the trace.
"""

from __future__ import annotations

from typing import Any

from .lowering import Handler, LoweringState
from .program import Scalar, SegmentSpec
from .traced import TracedNode, tag_of

# What PyTorch gives an empty segment: a bag is zeros in every mode; segment_reduce gives each reduction's identity,
# and NaN for a mean (0 / 0).
_BAG_EMPTY = "0.0"
_SEGMENT_EMPTY = {"sum": "0.0", "mean": 'float("nan")', "max": 'float("-inf")', "min": 'float("inf")'}


def given(state: LoweringState, arg: Any) -> bool:
    """Whether an optional argument was passed (a None constant or attribute was not)."""
    return arg is not None and not (tag_of(arg) in ("const", "attr") and state.value(arg) is None)


def _embedding_bag(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    mode = state.value(bound["mode"])
    if given(state, bound.get("max_norm")):
        state.decline(node, "with max_norm (it renormalises the table in place)")
        return
    if mode not in ("sum", "mean", "max"):
        state.decline(node, f"in mode {mode!r}")
        return
    table, ids = state.operand(bound["weight"]), state.operand(bound["input"])
    if not isinstance(table, str) or not isinstance(ids, str) or len(state.shape(table)) != 2:
        state.decline(node, "over anything but a 2-D table and an id tensor")
        return
    has_offsets = given(state, bound.get("offsets"))
    if has_offsets != (len(state.shape(ids)) == 1):
        state.decline(node, "with 1-D ids and no offsets, or 2-D ids and offsets")
        return
    weighted = given(state, bound.get("per_sample_weights"))
    padded = given(state, bound.get("padding_idx"))
    args: list[str | Scalar] = [table, ids]
    args += [state.operand(bound["offsets"])] if has_offsets else []
    args += [state.operand(bound["per_sample_weights"])] if weighted else []
    args += [state.operand(bound["padding_idx"])] if padded else []
    spec = SegmentSpec(reduce=mode, bounds="offsets" if has_offsets else "fixed", gathered=True, weighted=weighted,
                       empty=_BAG_EMPTY, padded=padded, closed=bool(state.value(bound.get("include_last_offset"))))
    _emit(state, node, args, spec)


def _segment_reduce(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    reduce = state.value(bound["reduce"])
    data = state.operand(bound["data"])
    if reduce not in _SEGMENT_EMPTY:
        state.decline(node, f"with reduce={reduce!r}")
        return
    if not isinstance(data, str) or len(state.shape(data)) != 2 or state.value(bound.get("axis")) not in (0, None):
        state.decline(node, "over anything but a 2-D tensor's rows (axis 0)")
        return
    if given(state, bound.get("indices")):
        state.decline(node, "with indices (it is deprecated; lengths or offsets are generated)")
        return
    lengths, offsets = given(state, bound.get("lengths")), given(state, bound.get("offsets"))
    if lengths == offsets:
        state.decline(node, "without exactly one of lengths and offsets")
        return
    bounds = state.operand(bound["lengths"] if lengths else bound["offsets"])
    initial = bound.get("initial")
    if given(state, initial) and reduce == "mean":
        state.decline(node, "mean with an initial value")
        return
    initial_expr = repr(float(state.value(initial))) if given(state, initial) else None
    spec = SegmentSpec(reduce=reduce, bounds="lengths" if lengths else "offsets", gathered=False, weighted=False,
                       empty=initial_expr or _SEGMENT_EMPTY[reduce], initial=initial_expr, closed=offsets)
    _emit(state, node, [data, bounds], spec)


# A reduction over an embedding's ids -> the bag's mode (with no ids it gives what segment_reduce gives).
_LOOKUP_REDUCTIONS = {"sum": "sum", "mean": "mean", "amax": "max", "max": "max"}


def bag_of_lookup(state: LoweringState, node: TracedNode, x: str | Scalar, dims: tuple[int, ...], keep: bool) -> bool:
    """An embedding of (bags, ids per bag) reduced over its ids is an embedding bag of fixed-size bags: one kernel
    reads each row once and reduces it in registers, instead of writing every looked-up row and reading it back.
    Returns whether it wrote the bag (else the caller lowers the reduction as usual)."""
    lookup = state.lookups.get(x) if isinstance(x, str) else None
    if lookup is None or node.op not in _LOOKUP_REDUCTIONS or keep or dims != (1,):
        return False
    table, ids = lookup
    if len(state.shape(ids)) != 2 or (node.op == "max" and state.value(state.bind(node).get("dim")) is None):
        return False
    reduce = _LOOKUP_REDUCTIONS[node.op]
    spec = SegmentSpec(reduce=reduce, bounds="fixed", gathered=True, weighted=False, empty=_SEGMENT_EMPTY[reduce])
    _emit(state, node, [table, ids], spec)
    return True


def _emit(state: LoweringState, node: TracedNode, args: list[str | Scalar], spec: SegmentSpec) -> None:
    state.emit_prim("segment", f"segment_{spec.reduce}", args, name=node.name,
                    shape_override=tuple(node.meta.shape) if node.meta is not None else (0, 0), segment=spec)
    # The rows' dtype, as PyTorch stores the reduction (a bf16 table gives a bf16 bag).
    state.take_traced_dtype(node)


SEGMENTS: dict[str, Handler] = {"embedding_bag": _embedding_bag, "segment_reduce": _segment_reduce}
