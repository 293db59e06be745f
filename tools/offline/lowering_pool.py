"""Max and average pooling as a windowed read followed by a reduction over the window's taps.

The window's settings may come from the model (`self.pool`, `nn.AvgPool2d(k)`), so they are read in
forward and passed to the kernel; `_window` in the generated module turns an int or a tuple into one
value per spatial dim. ceil_mode, divisor_override and returned indices have no generator.
"""

from __future__ import annotations

from typing import Any

from .lowering import Handler, LoweringState
from .program import Scalar
from .traced import TracedNode, tag_of


def _per_dim(state: LoweringState, arg: Any, count: int) -> list[Scalar]:
    value = state.value(arg)
    if tag_of(arg) == "const":
        values = value if isinstance(value, list) else [value] * count
        return [Scalar(str(int(v)), literal=True) for v in values]
    name = state.emit_py(state.fresh("window"), f"_window({state.py(arg)}, {count})")
    return [Scalar(f"{name}[{i}]", literal=False) for i in range(count)]


def _traced(arg: Any, state: LoweringState, count: int) -> list[int]:
    value = state.value(arg)
    return [int(v) for v in value] if isinstance(value, list) else [int(value)] * count


def _pool(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    count = int(node.op[-2])
    is_max = node.op.startswith("max")
    unsupported = state.value(bound.get("ceil_mode")) or state.value(bound.get("return_indices")) \
        or state.value(bound.get("divisor_override")) is not None
    if unsupported:
        state.decline(node, "with ceil_mode, divisor_override or indices")
        return
    x = state.operand(bound["input"])
    stride_arg = bound["stride"] if state.value(bound.get("stride")) not in (None, []) else bound["kernel_size"]
    dilation_arg = bound.get("dilation", {"const": 1})
    settings = [_per_dim(state, a, count) for a in (bound["kernel_size"], stride_arg, bound["padding"], dilation_arg)]
    kernel, stride, padding, dilation = (_traced(a, state, count) for a in
                                         (bound["kernel_size"], stride_arg, bound["padding"], dilation_arg))
    dims = state.shape(x)
    outputs = [(dims[2 + i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
               for i in range(count)]
    window_dims = tuple(range(2 + count, 2 + 2 * count))
    window = state.emit_prim("window", "window_max" if is_max else "window_sum",
                             [x, *(s for setting in settings for s in setting)],
                             shape_override=(*dims[:2], *outputs, *kernel), dims=tuple(range(2, 2 + count)))
    if is_max:
        state.reduce("amax", window, window_dims, False, name=node.name)
        return
    total = state.reduce("sum", window, window_dims, False)
    if state.value(bound.get("count_include_pad")) is False:
        taps = state.reduce("sum", state.pw("window_valid", window), window_dims, False)
    else:
        literal = all(s.literal for s in settings[0])
        taps = Scalar(" * ".join(s.expr for s in settings[0]), literal=literal)
    state.pw("div", total, taps, name=node.name)


POOLS: dict[str, Handler] = {f"{kind}_pool{n}d": _pool for kind in ("max", "avg") for n in (1, 2, 3)}
