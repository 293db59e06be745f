"""Elementwise functions as Triton expressions.

Each entry takes the already-named operands (tensor variables, scalar kernel arguments or literals),
already converted to the type the step computes in (dtypes.py: fp32 for floating values, the value's
own dtype for integers and booleans), and returns one Triton expression; `INTEGER` holds the forms
that differ for integers. Only `tl` built-ins are used: libdevice calls do not run in
Triton's CPU interpreter, where CI checks every generated kernel, so tanh is written through the
sigmoid and powers through exp/log or repeated products.
"""

from __future__ import annotations

from collections.abc import Callable

Formula = Callable[..., str]


def _tanh(x: str) -> str:
    return f"(2.0 * tl.sigmoid(2.0 * {x}) - 1.0)"


def _softplus(x: str, beta: str = "1.0", threshold: str = "20.0") -> str:
    return f"tl.where({x} * {beta} > {threshold}, {x}, tl.log(1.0 + tl.exp({x} * {beta})) / {beta})"


def _gelu(x: str, approximate: str = "'none'") -> str:
    if approximate.strip("'\"") == "tanh":
        inner = f"0.7978845608028654 * ({x} + 0.044715 * {x} * {x} * {x})"
        return f"0.5 * {x} * (1.0 + {_tanh(inner)})"
    return f"0.5 * {x} * (1.0 + tl.erf({x} * 0.7071067811865476))"


def _pow(x: str, exponent: str) -> str:
    """x ** exponent as PyTorch computes it: an integer exponent takes a negative base (x ** 3 of -2 is -8, where
    exp(3 * log(x)) would be NaN), x ** 0 is 1 for every x; any other exponent of a negative base is NaN."""
    try:
        value = float(exponent)
    except ValueError:
        return _pow_at_run_time(x, exponent)
    if value == 0:
        return f"tl.where({x} == {x}, 1.0, 1.0)"  # ones shaped like x, NaN and infinities included
    if value.is_integer() and abs(value) <= 8:
        product = "(" + " * ".join([x] * int(abs(value))) + ")"
        return product if value > 0 else f"(1.0 / {product})"
    if value == 0.5:
        return f"tl.sqrt({x})"
    if value.is_integer():
        magnitude = f"tl.exp({exponent} * tl.log(tl.abs({x})))"
        return f"tl.where({x} < 0, -{magnitude}, {magnitude})" if int(value) % 2 else magnitude
    return f"tl.exp({exponent} * tl.log({x}))"


def _pow_at_run_time(x: str, exponent: str) -> str:
    """x ** e with e known at launch only: the integer cases of `_pow`, decided in the kernel."""
    exponent = f"({exponent} * 1.0)"  # an int attribute arrives as an integer: floor and log take floats
    magnitude = f"tl.exp({exponent} * tl.log(tl.abs({x})))"
    odd = f"({exponent} - 2.0 * tl.floor({exponent} * 0.5) == 1.0)"
    integral = f"({exponent} == tl.floor({exponent}))"
    signed = f"tl.where({odd}, -{magnitude}, {magnitude})"
    negative_base = f"tl.where({integral}, {signed}, tl.exp({exponent} * tl.log({x})))"
    return f"tl.where({exponent} == 0, 1.0, tl.where({x} < 0, {negative_base}, {magnitude}))"


def _round_half_even(x: str, decimals: str) -> str:
    """torch.round: halves to the even neighbour (2.5 -> 2, 3.5 -> 4); with decimals, round(x * 10^d) / 10^d as
    PyTorch computes it. From 2^23 up every float32 is an integer already."""
    scaled = x if decimals in ("0", "None") else f"({x} * {10.0 ** int(decimals)!r})"
    below = f"tl.floor({scaled})"
    tie = f"({scaled} - {below} == 0.5)"
    rounded = f"tl.where({tie}, 2.0 * tl.floor({scaled} * 0.5 + 0.5), tl.floor({scaled} + 0.5))"
    whole = f"tl.where(tl.abs({scaled}) >= 8388608.0, {scaled}, {rounded})"
    return whole if decimals in ("0", "None") else f"({whole} / {10.0 ** int(decimals)!r})"


def _max(a: str, b: str) -> str:
    """PyTorch's maximum: NaN wins (clamp, relu and maximum of NaN are NaN), where Triton's default drops it."""
    return f"tl.maximum({a}, {b}, propagate_nan=tl.PropagateNan.ALL)"


def _min(a: str, b: str) -> str:
    return f"tl.minimum({a}, {b}, propagate_nan=tl.PropagateNan.ALL)"


# Reductions: PyTorch's amax, amin, max pooling and segment maxima return NaN where any operand is NaN, while
# Triton's tl.max and tl.min combine with max.f32, which drops it; so maxima and minima reduce with the
# NaN-keeping helpers (triton_helpers: _nan_max, _nan_min) and accumulate with _max and _min.
_EXTREMES = {"amax": "max", "amin": "min", "max": "max", "min": "min"}


def reduce_call(fn: str, x: str, axis: int) -> str:
    """`x` reduced along `axis` by `fn` (sum and mean sum; a mean's division is the caller's)."""
    if fn in _EXTREMES:
        return f"tl.reduce({x}, {axis}, _nan_{_EXTREMES[fn]})"
    if fn == "prod":
        return f"tl.reduce({x}, {axis}, _product)"
    return f"tl.sum({x}, axis={axis})"


def accumulate(fn: str, acc: str, x: str) -> str:
    """The running value `acc` of reduction `fn` after `x` is taken in."""
    if fn in _EXTREMES:
        return (_max if _EXTREMES[fn] == "max" else _min)(acc, x)
    return f"{acc} * {x}" if fn == "prod" else f"{acc} + {x}"


def first_extreme_at(fn: str, values: str, axis: int) -> str:
    """Where along `axis` the first largest (argmax) or smallest (argmin) of `values` is, a NaN counting as beyond
    every number, as torch.argmax and argmin have it (Triton's comparisons never pick a NaN). `values`: a name."""
    nan = f"({values} != {values}).to(tl.int32)"
    return f"tl.where(tl.max({nan}, axis={axis}) > 0, tl.argmax({nan}, axis={axis}), tl.{fn}({values}, axis={axis}))"


def _clamp(x: str, low: str = "None", high: str = "None") -> str:
    if low != "None":
        x = _max(x, low)
    if high != "None":
        x = _min(x, high)
    return x


POINTWISE: dict[str, Formula] = {
    "add": lambda a, b, alpha="1": f"({a} + {b})" if alpha in ("1", "1.0") else f"({a} + {alpha} * {b})",
    "sub": lambda a, b, alpha="1": f"({a} - {b})" if alpha in ("1", "1.0") else f"({a} - {alpha} * {b})",
    "rsub": lambda a, b, alpha="1": f"({b} - {a})",
    "mul": lambda a, b: f"({a} * {b})",
    "div": lambda a, b: f"({a} / {b})",
    "neg": lambda x: f"(-{x})",
    "exp": lambda x: f"tl.exp({x})",
    "log": lambda x: f"tl.log({x})",
    "log1p": lambda x: f"tl.log(1.0 + {x})",
    "expm1": lambda x: f"(tl.exp({x}) - 1.0)",
    "sqrt": lambda x: f"tl.sqrt({x})",
    "rsqrt": lambda x: f"tl.rsqrt({x})",
    "abs": lambda x: f"tl.abs({x})",
    "square": lambda x: f"({x} * {x})",
    "reciprocal": lambda x: f"(1.0 / {x})",
    "sin": lambda x: f"tl.sin({x})",
    "cos": lambda x: f"tl.cos({x})",
    "erf": lambda x: f"tl.erf({x})",
    "floor": lambda x: f"tl.floor({x})",
    "round": lambda x, decimals="0": _round_half_even(x, decimals),
    "isnan": lambda x: f"({x} != {x})",
    "isinf": lambda x: f"(tl.abs({x}) == float(\"inf\"))",
    "isfinite": lambda x: f"(tl.abs({x}) < float(\"inf\"))",  # NaN compares false
    "ceil": lambda x: f"tl.ceil({x})",
    "sign": lambda x: f"tl.where({x} > 0, 1.0, tl.where({x} < 0, -1.0, 0.0))",
    "pow": _pow,
    "sigmoid": lambda x: f"tl.sigmoid({x})",
    "tanh": _tanh,
    "relu": lambda x: _max(x, "0.0"),
    "relu6": lambda x: _min(_max(x, "0.0"), "6.0"),
    "gelu": _gelu,
    "silu": lambda x: f"({x} * tl.sigmoid({x}))",
    "mish": lambda x: f"({x} * {_tanh(_softplus(x))})",
    "softplus": _softplus,
    "leaky_relu": lambda x, negative_slope="0.01": f"tl.where({x} >= 0, {x}, {x} * {negative_slope})",
    "hardtanh": lambda x, min_val="-1.0", max_val="1.0": _min(_max(x, min_val), max_val),
    "clamp": _clamp,
    "clamp_min": lambda x, low: _max(x, low),
    "clamp_max": lambda x, high: _min(x, high),
    "elu": lambda x, alpha="1.0": f"tl.where({x} > 0, {x}, {alpha} * (tl.exp({x}) - 1.0))",
    "hardswish": lambda x: f"({x} * {_min(_max(f'{x} + 3.0', '0.0'), '6.0')} / 6.0)",
    "hardsigmoid": lambda x: _min(_max(f"{x} / 6.0 + 0.5", "0.0"), "1.0"),
    "softsign": lambda x: f"({x} / (1.0 + tl.abs({x})))",
    "logsigmoid": lambda x: f"({_min(x, '0.0')} - tl.log(1.0 + tl.exp(-tl.abs({x}))))",
    "selu": lambda x: f"(1.0507009873554805 * tl.where({x} > 0, {x}, 1.6732632423543772 * (tl.exp({x}) - 1.0)))",
    "celu": lambda x, alpha="1.0": f"tl.where({x} > 0, {x}, {alpha} * (tl.exp({x} / {alpha}) - 1.0))",
    # As PyTorch writes them, comparison by comparison, so that a NaN comes through as NaN.
    "hardshrink": lambda x, lambd="0.5": f"tl.where(({x} >= 0.0 - {lambd}) & ({x} <= {lambd}), 0.0, {x})",
    "softshrink": lambda x, lambd="0.5": f"tl.where({x} > {lambd}, {x} - {lambd}, tl.where({x} < 0.0 - {lambd}, "
                                         f"{x} + {lambd}, {x} * 0.0))",
    "tanhshrink": lambda x: f"({x} - {_tanh(x)})",
    "threshold": lambda x, threshold, value: f"tl.where({x} <= {threshold}, {value}, {x})",
    "prelu": lambda x, weight: f"tl.where({x} >= 0, {x}, {weight} * {x})",
    "maximum": lambda a, b: _max(a, b),
    "minimum": lambda a, b: _min(a, b),
    "where": lambda c, a, b: f"tl.where({c}, {a}, {b})",
    "addcmul": lambda a, t1, t2, value="1": f"({a} + {value} * ({t1} * {t2}))",
    "addcdiv": lambda a, t1, t2, value="1": f"({a} + {value} * ({t1} / {t2}))",
    # PyTorch's lerp: from the nearer end, so that weight 1 gives `end` exactly.
    "lerp": lambda a, b, w: f"tl.where(tl.abs({w}) < 0.5, {a} + {w} * ({b} - {a}), {b} - ({b} - {a}) * (1.0 - {w}))",
    "gt": lambda a, b: f"({a} > {b})",
    "lt": lambda a, b: f"({a} < {b})",
    "ge": lambda a, b: f"({a} >= {b})",
    "le": lambda a, b: f"({a} <= {b})",
    "eq": lambda a, b: f"({a} == {b})",
    "ne": lambda a, b: f"({a} != {b})",
    "identity": lambda x: x,
    "round_to_float16": lambda x: f"{x}.to(tl.float16).to(tl.float32)",
    "round_to_bfloat16": lambda x: f"{x}.to(tl.bfloat16).to(tl.float32)",
    # 1.0 where a pooling window's tap falls inside the tensor: `valid_<window>` is set where it is loaded.
    "window_valid": lambda window: f"valid_{window.removeprefix('v_')}.to(tl.float32)",
    # A value computed at a window's taps, with the pool's padding where the tap falls outside (tap_producers.py).
    "window_pad": lambda x, window, padding: f"tl.where(valid_{window.removeprefix('v_')}, {x}, {padding})",
    "float": lambda x: f"{x}.to(tl.float32)",
    # zeros_like / ones_like / full_like: a constant shaped like its operand.
    "fill": lambda x, value: f"tl.full({x}.shape, {value}, tl.float32)",
    # Integer and bitwise functions. Triton's `%` and `//` round toward zero, as C does; PyTorch's remainder
    # takes the divisor's sign and its floor division rounds down, so helpers (triton_helpers.py) correct them.
    "remainder": lambda a, b: f"_remainder({a}, {b})",
    "fmod": lambda a, b: f"({a} % {b})",
    "floor_divide": lambda a, b: f"_floor_divide_float({a}, {b})",
    "trunc_divide": lambda a, b: f"_trunc({a} / {b})",
    "bitwise_and": lambda a, b: f"({a} & {b})",
    "bitwise_or": lambda a, b: f"({a} | {b})",
    "bitwise_xor": lambda a, b: f"({a} ^ {b})",
    "bitwise_not": lambda x: f"(~{x})",
    "left_shift": lambda a, b: f"_shift_left({a}, {b})",
    "right_shift": lambda a, b: f"_shift_right({a}, {b})",
    "logical_and": lambda a, b: f"(({a} != 0) & ({b} != 0))",
    "logical_or": lambda a, b: f"(({a} != 0) | ({b} != 0))",
    "logical_xor": lambda a, b: f"(({a} != 0) ^ ({b} != 0))",
    "logical_not": lambda x: f"({x} == 0)",
    # A 1-D sorted table (args: the value, the table, `right`) read by binary search; KernelNames.operand names
    # the table by its pointer, length and stride.
    "bucketize": lambda x, table, right: f"_sorted_position({table}, {x}, {right})",
    # Where segment `x` starts, from the table of segment ends (the end before it; 0 for the first).
    "segment_start": lambda x, table: f"_segment_start({table}, {x})",
    # The k-th row (or column) index of a triangle (lowering_triangle.py): the sizes, the lower triangle's offset,
    # the count of pairs, then whether it is the upper triangle and whether the column is asked for.
    "triangle": lambda k, n, m, offset, count, upper, column:
        f"_triangle({k}, {n}, {m}, {offset}, {count}, {upper}, {column})",
}

# Where an integer step needs another form than a floating one.
INTEGER: dict[str, Formula] = {
    "floor_divide": lambda a, b: f"_floor_divide({a}, {b})",
    "trunc_divide": lambda a, b: f"({a} // {b})",
}

# The rounding a conversion down to a half dtype does, computed where the conversion is (kernels hold halves in fp32).
ROUNDED_TO = {"torch.float16": "round_to_float16", "torch.bfloat16": "round_to_bfloat16"}
