"""Accumulation into rows picked by ids: `index_add`, `scatter_add` and `bincount` as a `scatter` primitive.

A scatter iterates over the values it adds (a GNN's messages, one row per edge), so the elementwise steps that
make those values (a gather of source rows, a product with edge weights) fuse into the kernel that adds them and
the values are never written. The output starts from zeros or from a tensor's values (program.ScatterSpec) and
is accumulated in fp32 (int64 for counts); a dtype the reference stores otherwise is a conversion after it.

bincount's length is its `minlength` (a size the launcher knows): an id at or past it, which would make PyTorch
grow the result by a size read from the data, is reported as bad input instead, as a negative id is.
"""

from __future__ import annotations

from typing import Any

from .lowering import Handler, LoweringState
from .program import PrimStep, Scalar, ScatterSpec, Shape
from .traced import TracedNode

_ONE = Scalar("1", literal=True)


def _start(state: LoweringState, node: TracedNode, base_arg: Any) -> tuple[str | Scalar, ScatterSpec] | None:
    """Where the output starts: zeros shaped like a tensor or of a size the forward computes, else a copy of
    the base. None, declined, when the base is no tensor. (An in-place update's later readers read its result:
    trace_mutations.)"""
    base = state.operand(base_arg)
    if not isinstance(base, str):
        state.decline(node, "into something other than a tensor")
        return None
    producer = next((s for s in reversed(state.steps) if s.name == base), None)
    if isinstance(producer, PrimStep) and producer.fn == "fill" and producer.args[1] == Scalar("0.0", True) \
            and isinstance(producer.args[0], str):
        shaped = producer.args[0]
        if shaped in state.index_tensors:  # zeros of a size (lowering_assign.py): only the stand-in's shape is real
            return Scalar(f"tuple({shaped}.shape)", literal=False), ScatterSpec("sized")
        return shaped, ScatterSpec("like")
    return base, ScatterSpec("copy")


def _emit(state: LoweringState, node: TracedNode, ids: str, values: str | Scalar, start: str | Scalar,
          spec: ScatterSpec, iteration: tuple[int, ...]) -> None:
    traced = node.meta.dtype if node.meta is not None else "torch.float32"
    accumulator = "torch.float32" if "float" in traced else "torch.int64"
    name = node.name if accumulator == traced else None
    out = state.emit_prim("scatter", "scatter_add", [ids, values, start], name=name, dims=iteration,
                          shape_override=tuple(node.meta.shape) if node.meta is not None else (0,), scatter=spec,
                          dtype=accumulator)
    if name is None:  # stored as the reference stores it (bf16 sums, float64 weighted counts)
        state.pw("identity", out, name=node.name)


def _opened(state: LoweringState, node: TracedNode,
            source_key: str) -> tuple[dict[str, Any], str, str, Any] | None:
    """An index_add's or scatter_add's arguments, base, index and source along dim 0, or None (declined)."""
    bound = state.bind(node)
    base, index = state.operand(bound["input"]), state.operand(bound["index"])
    if not isinstance(base, str) or not isinstance(index, str) or not state.shape(base):
        state.decline(node, "without a tensor to add into and an index tensor")
        return None
    dim = state.value(bound["dim"])
    if not isinstance(dim, int) or dim % len(state.shape(base)) != 0:
        state.decline(node, "along a dim other than 0")
        return None
    if "complex" in state.tensors[base].dtype or state.tensors[base].dtype == "torch.bool":
        state.decline(node, "into a complex or bool tensor")
        return None
    return bound, base, index, state.operand(bound[source_key])


def _index_add(state: LoweringState, node: TracedNode) -> None:
    opened = _opened(state, node, "source")
    if opened is None:
        return
    bound, base, index, source = opened
    rank = len(state.shape(base))
    if not isinstance(source, str) or len(state.shape(index)) != 1 or len(state.shape(source)) != rank:
        state.decline(node, "without a 1-D index and a source of its base's rank")
        return
    started = _start(state, node, bound["input"])
    if started is None:
        return
    alpha = state.operand(bound["alpha"])
    if not (isinstance(alpha, Scalar) and alpha.literal and alpha.expr in ("1", "1.0")):
        source = state.pw("mul", source, alpha)
    iteration = state.shape(source)
    ids = state.emit_py(state.fresh(f"{index}_rows"), f"{index}.view({[-1] + [1] * (rank - 1)})",
                        Shape((iteration[0], *[1] * (rank - 1)), state.tensors[index].dtype))
    start, spec = started
    _emit(state, node, ids, source, start, ScatterSpec(spec.start, per_row=True), iteration)


def _scatter_add(state: LoweringState, node: TracedNode) -> None:
    opened = _opened(state, node, "src")
    if opened is None:
        return
    bound, base, index, source = opened
    if not isinstance(source, str) or state.shape(source) != state.shape(index) \
            or len(state.shape(index)) != len(state.shape(base)):
        state.decline(node, "with a src shaped otherwise than its index, or an index of another rank than its base")
        return
    started = _start(state, node, bound["input"])
    if started is None:
        return
    _emit(state, node, index, source, *started, state.shape(index))


def _bincount(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    ids, weights = state.operand(bound["input"]), state.operand(bound["weights"])
    minlength = state.operand(bound["minlength"])
    if not isinstance(ids, str) or len(state.shape(ids)) != 1:
        state.decline(node, "of anything but a 1-D id tensor")
        return
    if isinstance(minlength, Scalar) and minlength.literal and minlength.expr in ("0", "None"):
        state.decline(node, "without minlength (its length would be read from the data: the largest id + 1)")
        return
    if isinstance(minlength, str) or (isinstance(weights, str) and state.shape(weights) != state.shape(ids)):
        state.decline(node, "with minlength a tensor, or weights not shaped like the ids")
        return
    values = weights if isinstance(weights, str) else _ONE
    _emit(state, node, ids, values, Scalar(f"({minlength.expr},)", literal=False), ScatterSpec("sized"),
          state.shape(ids))


SCATTERS: dict[str, Handler] = {"index_add": _index_add, "scatter_add": _scatter_add, "bincount": _bincount}
