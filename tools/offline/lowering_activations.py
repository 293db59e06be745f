"""Activations that are not one elementwise formula of their input: PReLU's per-channel slope and GLU's halves."""

from __future__ import annotations

from .lowering import Handler, LoweringState
from .program import Shape
from .traced import TracedNode


def _prelu(state: LoweringState, node: TracedNode) -> None:
    """A slope per channel (dim 1), or one for every element: the slope viewed to broadcast along dim 1."""
    bound = state.bind(node)
    x, weight = state.operand(bound["input"]), state.operand(bound["weight"])
    rank = len(state.shape(x))
    if state.shape(weight) not in ((), (1,)):
        if rank < 2:
            state.decline(node, "with a slope per channel of a tensor without a channel dim")
            return
        weight = state.channel_view(weight, rank, "slope")
    state.pw("prelu", x, weight, name=node.name)


def _glu(state: LoweringState, node: TracedNode) -> None:
    """The first half of `dim` times the sigmoid of the second: both halves are views of the input."""
    bound = state.bind(node)
    x = state.operand(bound["input"])
    dims = state.shape(x)
    dim = int(state.value(bound.get("dim", {"const": -1}))) % len(dims)
    half = (*dims[:dim], dims[dim] // 2, *dims[dim + 1:])
    size = f"{x}.shape[{dim}] // 2"
    first, second = (state.emit_py(state.fresh(name), f"{x}.narrow({dim}, {start}, {size})",
                                   Shape(half, state.tensors[x].dtype))
                     for name, start in (("first_half", "0"), ("second_half", size)))
    state.pw("mul", first, state.pw("sigmoid", second), name=node.name)


ACTIVATIONS: dict[str, Handler] = {"prelu": _prelu, "glu": _glu}
