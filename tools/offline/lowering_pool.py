"""Max and average pooling as a windowed read followed by a reduction over the window's taps.

The window's settings may come from the model (`self.pool`, `nn.AvgPool2d(k)`), so they are read in
forward and passed to the kernel; `_window` in the generated module turns an int or a tuple into one
value per spatial dim. ceil_mode, divisor_override and returned indices have no generator. Adaptive pooling reads
windows of each output's own bounds (window_source.py).

Under the `reshaped_pools` schedule, a pooling whose windows tile the input (stride equal to the kernel, no
padding, no dilation) is instead a reduction over a view: the input cut to whole windows, each spatial dim split
into (outputs, taps), and a mean or max over the taps' dims. That is an ordinary reduction kernel, so an
elementwise producer (the activation before the pool) moves through the view into it (view_motion.py) and the
activation's output is never written. The search times both forms.
"""

from __future__ import annotations

from typing import Any

from .lowering import Handler, LoweringState
from .program import Scalar, Shape
from .traced import TracedNode, tag_of
from .window_source import largest_windows


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
    if state.reshaped_pools and _tiles(bound, stride_arg, dilation_arg, state):
        _reshaped(state, node, x, settings[0], kernel, is_max)
        return
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
        taps = Scalar("(" + " * ".join(s.expr for s in settings[0]) + ")", literal=literal)
    state.pw("div", total, taps, name=node.name)


def _tiles(bound: dict[str, Any], stride_arg: Any, dilation_arg: Any, state: LoweringState) -> bool:
    """Windows that tile the input at every configuration: the stride is the kernel's own argument (or equal
    constants), padding is 0 and dilation 1 as constants."""
    same_stride = stride_arg is bound["kernel_size"] or (
        tag_of(stride_arg) == "const" and tag_of(bound["kernel_size"]) == "const"
        and state.value(stride_arg) == state.value(bound["kernel_size"]))
    constant_ones = (tag_of(a) == "const" and all(int(v) == ok for v in _listed(state.value(a)))
                     for a, ok in ((bound["padding"], 0), (dilation_arg, 1)))
    return same_stride and all(constant_ones)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _reshaped(state: LoweringState, node: TracedNode, x: str, kernel: list[Scalar], traced: list[int],
              is_max: bool) -> None:
    """The input cut to whole windows and viewed as (N, C, out_1, tap_1, out_2, tap_2, ...), reduced over the taps."""
    dims, dtype, count = state.shape(x), state.tensors[x].dtype, len(kernel)
    shape = (*dims[:2], *((dims[2 + i] // traced[i]) * traced[i] for i in range(count)))
    ends = ", ".join(f":{x}.shape[{2 + i}] // {k.expr} * {k.expr}" for i, k in enumerate(kernel))
    view = state.emit_py(state.fresh("whole_windows"), f"{x}[:, :, {ends}]", Shape(shape, dtype))
    for i in reversed(range(count)):
        shape = (*shape[:2 + i], shape[2 + i] // traced[i], traced[i], *shape[3 + i:])
        view = state.emit_py(state.fresh("windows"), f"{view}.unflatten({2 + i}, (-1, {kernel[i].expr}))",
                             Shape(shape, dtype))
    taps = tuple(3 + 2 * i for i in range(count))
    state.reduce("amax" if is_max else "mean", view, taps, False, name=node.name)


def _adaptive(state: LoweringState, node: TracedNode) -> None:
    """Adaptive pooling. To one element per spatial dim (global pooling) a mean or max over the spatial dims (an
    output size read from the model keeps its traced value, Program.baked, which the harness's other
    configurations check); to other sizes a window of each output's own bounds (window_source.py), with the
    output sizes read at run time."""
    bound = state.bind(node)
    count = int(node.op[-2])
    if state.value(bound.get("return_indices")):
        state.decline(node, "with indices")
        return
    size, is_max = bound["output_size"], node.op.startswith("adaptive_max")
    x = state.operand(bound["input"])
    dims = state.shape(x)
    outputs = _listed(state.value(size))
    if None in outputs:
        state.decline(node, "with an output size of None (the input's own size)")
        return
    if all(v == 1 for v in outputs):
        if tag_of(size) == "attr":
            state.baked.append(f"{size['attr']} = 1 (global pooling)")
        rank = len(dims)
        state.reduce("amax" if is_max else "mean", x, tuple(range(rank - count, rank)), True, name=node.name)
        return
    traced = [int(v) for v in outputs] * (count if len(outputs) == 1 else 1)
    taps = largest_windows(list(dims[2:]), traced)
    window = state.emit_prim("window", "window_adaptive_max" if is_max else "window_adaptive_sum",
                             [x, *_per_dim(state, size, count)], shape_override=(*dims[:2], *traced, *taps),
                             dims=tuple(range(2, 2 + count)))
    window_dims = tuple(range(2 + count, 2 + 2 * count))
    if is_max:
        state.reduce("amax", window, window_dims, False, name=node.name)
        return
    total = state.reduce("sum", window, window_dims, False)
    state.pw("div", total, state.reduce("sum", state.pw("window_valid", window), window_dims, False), name=node.name)


POOLS: dict[str, Handler] = {f"{kind}_pool{n}d": _pool for kind in ("max", "avg") for n in (1, 2, 3)} | {
    f"adaptive_{kind}_pool{n}d": _adaptive for kind in ("max", "avg") for n in (1, 2, 3)}
