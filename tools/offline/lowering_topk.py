"""`torch.topk` with a small constant k as a `topk` primitive of the row-reduction family.

The kernel keeps the row in registers and takes k passes of max and arg-max over it (topk_source.py), so the cost
grows with k: beyond MAX_K a sort would be the better kernel, and none is written here. The values
and the indices are two steps over the same selection, which the kernel computes once.
"""

from __future__ import annotations

from .lowering import Handler, LoweringState
from .program import Scalar
from .traced import TracedNode

MAX_K = 16
# The kernel holds whole rows in registers (it has no looping form): longer rows would spill or pass Triton's
# largest block.
MAX_ROW = 16384


def _topk(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    x, k, largest = (state.operand(bound[key]) for key in ("input", "k", "largest"))
    traced_k = state.value(bound["k"])
    # `largest` chooses the kernel's code: a model's flag is written in as traced, as other flags are.
    if not isinstance(x, str) or not state.shape(x) or not isinstance(traced_k, int) \
            or not isinstance(largest, Scalar) or largest.expr not in ("True", "False"):
        state.decline(node, "without a tensor, a constant k and a constant `largest`")
        return
    if "float" not in state.tensors[x].dtype:
        state.decline(node, "over a tensor that is not floating-point")
        return
    if traced_k > MAX_K:
        state.decline(node, f"with k > {MAX_K} (k passes over the row; a sort would be the kernel for it)")
        return
    if state.value(bound.get("sorted")) is False:
        state.decline(node, "with sorted=False (PyTorch's order is then unspecified)")
        return
    dims = state.dims_of(x, bound["dim"])
    if any(state.shape(x)[d] > MAX_ROW for d in dims):
        state.decline(node, f"over rows longer than {MAX_ROW} (the kernel holds whole rows; it has no looping form)")
        return
    shape = tuple(traced_k if d in dims else size for d, size in enumerate(state.shape(x)))
    args: list[str | Scalar] = [x, k, largest]
    values = state.emit_prim("topk", "topk", args, name=f"{node.name}_values", dims=dims, shape_override=shape)
    indices = state.emit_prim("topk", "topk", args, name=f"{node.name}_indices", dims=dims, shape_override=shape,
                              index=True)
    state.tuples[node.name] = [values, indices]
    state.emit_py(node.name, f"({values}, {indices})")


TOPK: dict[str, Handler] = {"topk": _topk}
