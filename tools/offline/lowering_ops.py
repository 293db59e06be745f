"""One handler per canonical operation: how it becomes primitives, a view, or a vendor call."""

from __future__ import annotations

import math

from .formulas import POINTWISE, ROUNDED_TO
from .lowering import (
    CHANNELS_LAST,
    PYTHON_ARITHMETIC,
    SAME_VALUE,
    VENDOR_CALLS,
    VIEW_METHODS,
    Handler,
    LoweringState,
    shape_of,
)
from .lowering_assign import ASSIGNMENTS
from .lowering_bias import convolution_bias
from .lowering_gather import indexed_rows
from .lowering_index import INDEXING, alias, index_view
from .lowering_repeat import REPEATS, masked_rows
from .lowering_segments import bag_of_lookup
from .lowering_subscript import index_by_tensors
from .program import Scalar
from .signatures import SIGNATURES
from .traced import TracedNode, tag_of

_NOT_OPERANDS = {"inplace", "dtype", "_stacklevel"}


def python_value(state: LoweringState, node: TracedNode) -> None:
    """Shapes, sizes and integer arithmetic on them: plain Python in the forward."""
    args = [state.py(arg) for arg in node.args]
    if node.op in PYTHON_ARITHMETIC and len(args) == 2:
        code = f"{args[0]} {PYTHON_ARITHMETIC[node.op]} {args[1]}"
    elif node.op == "neg":
        code = f"-{args[0]}"
    elif node.op == "getattr":
        code = f"{args[0]}.{node.args[1]['const']}"
    elif node.op == "getitem" and args[0] in state.tuples:
        code = state.tuples[args[0]][int(state.value(node.args[1]))]
    elif node.op == "getitem":
        code = f"{args[0]}[{args[1]}]"
    elif node.op in ("size", "dim", "numel", "stride"):
        code = f"{args[0]}.{node.op}({', '.join(args[1:])})"
    elif callable(getattr(math, node.op, None)):  # fx records math functions of sizes (`math.sqrt(d)`)
        code = f"math.{node.op}({', '.join(args)})"
    else:
        state.unsupported.append(node.op)
        code = f"None  # unsupported: {node.op}"
    state.emit_py(node.name, code)


def _pointwise(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    if node.op not in SIGNATURES:
        operands = [state.operand(arg) for arg in node.args]
        state.pw(node.op, *operands, name=node.name)
        return
    operands = [state.operand(arg) for key, arg in bound.items() if key not in _NOT_OPERANDS]
    if node.op == "add" and node.meta is not None and node.meta.dtype == "torch.bool":
        # Booleans add as a logical or in PyTorch (True + True is True); 1-bit integers would wrap to False.
        state.pw("logical_or", *operands[:2], name=node.name)
        return
    # Trailing defaults that equal the formula's own defaults are left out, so kernels stay readable.
    state.pw(node.op, *operands, name=node.name)


def _divide(state: LoweringState, node: TracedNode) -> None:
    """`torch.div`'s rounding mode chooses the function: true, floor or truncating division."""
    bound = state.bind(node)
    mode = state.value(bound.get("rounding_mode"))
    fn = {None: "div", "floor": "floor_divide", "trunc": "trunc_divide"}[mode]
    state.pw(fn, state.operand(bound["input"]), state.operand(bound["other"]), name=node.name)


def _same_value(state: LoweringState, node: TracedNode) -> None:
    if node.op == "dropout":
        bound = state.bind(node)
        if state.value(bound.get("p")) not in (0, 0.0) and state.value(bound.get("training")) is not False:
            state.unsupported.append("dropout with p > 0 in training mode")
    source = state.operand(node.args[0])
    if isinstance(source, str) and node.meta is not None and node.meta.dtype != state.tensors[source].dtype:
        # `.float()` of a half tensor: a conversion, stored as traced. Kernels compute halves in fp32, so a
        # conversion down to the half dtype the regime gives the inputs (`.to(input_dtype)` after an fp32 norm) is
        # rounded where it happens: what follows reads the rounded value, as in PyTorch. (A half the regime does
        # not have is only rounded when stored: the harness refuses kernels computing below the regime.)
        narrowed = node.meta.dtype in ROUNDED_TO and node.meta.dtype in state.input_dtypes() \
            and state.tensors[source].dtype in ("torch.float32", "torch.float64")
        state.pw(ROUNDED_TO[node.meta.dtype] if narrowed else "identity", source, name=node.name)
        return
    state.emit_py(node.name, source if isinstance(source, str) else source.expr, shape_of(node.meta))
    if source in state.index_tensors:
        alias(state, source, node.name)


def _view(state: LoweringState, node: TracedNode) -> None:
    base, *rest = [state.py(arg) for arg in node.args]
    rest += [f"{key}={state.py(value)}" for key, value in node.kwargs.items()]
    index = node.args[1] if node.op == "getitem" else None
    items = index["list"] if tag_of(index) == "list" and index.get("tuple") else [index]
    if len(items) == 1 and node.op == "getitem" and (masked_rows(state, node, items[0])
                                                     or indexed_rows(state, node, items[0])):
        return
    if any(tag_of(item) == "param" or (tag_of(item) == "node" and state.is_tensor(item["node"])) for item in items):
        index_by_tensors(state, node, base, items)
        return
    if len(items) > 1:  # x[:, 1:] is x[(slice, slice)], written without the parentheses
        rest = [state.py(item) for item in items]
    code = f"{base}[{', '.join(rest)}]" if node.op == "getitem" else f"{base}.{node.op}({', '.join(rest)})"
    if not index_view(state, node, code):
        state.emit_py(node.name, code, shape_of(node.meta))


def _gemm(state: LoweringState, node: TracedNode) -> bool:
    """A 2-D linear layer or matmul as a Triton GEMM whose bias (and anything after it) is its epilogue."""
    operands = [state.operand(arg) for arg in node.args[:3]]
    tensors = [o for o in operands if isinstance(o, str)]
    if node.op not in ("linear", "matmul", "mm") or node.kwargs or len(tensors) < 2 \
            or any(len(state.shape(t)) != 2 for t in tensors[:2]):
        return False
    x, w = tensors[:2]
    bias = tensors[2] if node.op == "linear" and len(tensors) > 2 else None
    out = (state.shape(x)[0], state.shape(w)[0] if node.op == "linear" else state.shape(w)[1])
    fn = "linear" if node.op == "linear" else "matmul"
    product = state.emit_prim("gemm", fn, [x, w], shape_override=out, name=None if bias else node.name)
    if bias is not None:
        state.pw("add", product, bias, name=node.name)
    return True


def _vendor(state: LoweringState, node: TracedNode) -> None:
    if state.gemm_in_triton and _gemm(state, node):
        return
    if state.gemm_in_triton and not state.vendor_fallback:
        state.decline(node, "(under strict, only 2-D linear layers and matmuls have a template)")
        return
    args = [state.py(arg) for arg in node.args]
    if state.channels_last and node.op in CHANNELS_LAST:
        args[:2] = [f"{arg}.contiguous(memory_format={CHANNELS_LAST[node.op]})" for arg in args[:2]]
    kwargs = {key: state.py(value) for key, value in node.kwargs.items()}
    bias = convolution_bias(state, node)
    if bias is not None:  # the convolution without it; the bias joins the kernel that reads its output
        if len(node.args) > 2:
            args[2] = "None"
        else:
            kwargs["bias"] = "None"
    call = VENDOR_CALLS[node.op]
    code = f"{call}({', '.join([*args, *(f'{key}={value}' for key, value in kwargs.items())])})"
    if bias is None:
        state.emit_py(node.name, code, shape_of(node.meta), vendor=call)
        return
    unbiased = state.emit_py(state.fresh(f"{node.name}_unbiased"), code, shape_of(node.meta), vendor=call)
    state.pw("add", unbiased, state.channel_view(bias, len(node.meta.shape), "bias"), name=node.name)


def _masked_fill(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    state.pw("where", state.operand(bound["mask"]), state.operand(bound["value"]), state.operand(bound["input"]),
             name=node.name)


_FILLS = {"zeros_like": "0.0", "ones_like": "1.0"}


def _constant_like(state: LoweringState, node: TracedNode) -> None:
    """zeros_like, ones_like, full_like: a constant shaped like the operand (its dtype is the traced one)."""
    x = state.operand(node.args[0])
    value = state.operand(node.args[1] if len(node.args) > 1 else node.kwargs.get("fill_value")) \
        if node.op == "full_like" else Scalar(_FILLS[node.op], literal=True)
    state.pw("fill", x, value, name=node.name)


def _param(state: LoweringState, node: TracedNode) -> None:
    name = state.param(node.args[0]["param"])
    state.emit_py(node.name, name, state.tensors.get(name))


def _getitem(state: LoweringState, node: TracedNode) -> None:
    base = node.args[0]["node"] if tag_of(node.args[0]) == "node" else None
    if base in state.tuples:
        state.aliases[node.name] = state.tuples[base][int(state.value(node.args[1]))]
    else:
        _view(state, node)


_TENSOR_ATTRIBUTE_VIEWS = {"T", "mT", "data"}


def _getattr(state: LoweringState, node: TracedNode) -> None:
    """`torch.max(x, dim).values` names an element of the result; `x.T` is a view."""
    base, attribute = node.args[0]["node"], node.args[1]["const"]
    if base in state.tuples and attribute in ("values", "indices"):
        state.aliases[node.name] = state.tuples[base][attribute == "indices"]
    elif attribute in _TENSOR_ATTRIBUTE_VIEWS:
        state.emit_py(node.name, f"{base}.{attribute}", shape_of(node.meta))
    else:
        state.unsupported.append(f"tensor attribute .{attribute}")
        state.emit_py(node.name, f"None  # unsupported: .{attribute}")


def _reduction(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    x = state.operand(bound["input"])
    dims = state.dims_of(x, bound.get("dim"))
    keep = bool(state.value(bound.get("keepdim")))
    op = node.op
    if bag_of_lookup(state, node, x, dims, keep):
        return
    if op in ("max", "min") and state.value(bound.get("dim")) is not None:
        values = state.reduce("amax" if op == "max" else "amin", x, dims, keep, name=f"{node.name}_values")
        indices = state.reduce("argmax" if op == "max" else "argmin", x, dims, keep, name=f"{node.name}_indices",
                               index=True)
        state.tuples[node.name] = [values, indices]
        state.emit_py(node.name, f"({values}, {indices})")
        return
    if op in ("max", "min"):
        state.reduce("amax" if op == "max" else "amin", x, dims, keep, name=node.name)
    elif op in ("sum", "mean", "amax", "amin"):
        state.reduce(op, x, dims, keep, name=node.name)
    elif op == "prod":
        if not isinstance(x, str) or "float" not in state.tensors[x].dtype:
            state.decline(node, "of integers (PyTorch multiplies them in int64)")
            return
        state.reduce("prod", x, dims, keep, name=node.name)
    elif op in ("argmax", "argmin"):
        state.reduce(op, x, dims, keep, name=node.name, index=True)
    elif op == "logsumexp":
        # Shifted by the largest value, unless it is infinite (a row all -inf gives -inf, not NaN), as PyTorch does.
        largest = state.reduce("amax", x, dims, True)
        infinite = state.pw("eq", state.pw("abs", largest), Scalar('float("inf")', literal=True))
        top = state.pw("where", infinite, Scalar("0.0", literal=True), largest)
        total = state.reduce("sum", state.pw("exp", state.pw("sub", x, top)), dims, keep)
        state.pw("add", state.reduced_view(top, dims, keep), state.pw("log", total), name=node.name)
    elif op in ("var", "std"):
        _variance(state, node, x, dims, keep, bound)
    elif op == "norm":
        if state.value(bound.get("p")) not in (2, 2.0, "fro"):
            state.unsupported.append("norm with p other than 2")
        state.pw("sqrt", state.reduce("sum", state.pw("mul", x, x), dims, keep), name=node.name)


def _variance(state: LoweringState, node: TracedNode, x: str, dims: tuple[int, ...], keep: bool, bound: dict) -> None:
    correction = state.value(bound.get("correction"))
    if correction is None:
        correction = 1 if state.value(bound.get("unbiased")) in (True, None) else 0
    centered = state.pw("sub", x, state.reduce("mean", x, dims, True))
    total = state.reduce("sum", state.pw("mul", centered, centered), dims, keep)
    name = None if node.op == "std" else node.name
    variance = state.pw("div", total, state.reduced_count(int(correction)), name=name)
    if node.op == "std":
        state.pw("sqrt", variance, name=node.name)


def _scan(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    x = state.operand(bound["input"])
    state.emit_prim("scan", node.op, [x], name=node.name, dims=state.dims_of(x, bound["dim"]))


HANDLERS: dict[str, Handler] = {name: _pointwise for name in POINTWISE}
HANDLERS.update({name: _same_value for name in SAME_VALUE})
HANDLERS.update({name: _view for name in VIEW_METHODS})
HANDLERS.update({name: _vendor for name in VENDOR_CALLS})
HANDLERS.update({name: _reduction for name in ("sum", "mean", "prod", "amax", "amin", "max", "min", "argmax",
                                                "argmin", "logsumexp", "var", "std", "norm")})
HANDLERS.update({name: _scan for name in ("cumsum", "cumprod", "logcumsumexp")})
HANDLERS.update({name: _constant_like for name in ("zeros_like", "ones_like", "full_like")})
HANDLERS["masked_fill"] = _masked_fill
HANDLERS.update(INDEXING)
HANDLERS["div"] = _divide
HANDLERS["param"] = _param
HANDLERS["getitem"] = _getitem
HANDLERS["getattr"] = _getattr
HANDLERS.update(REPEATS)
HANDLERS.update(ASSIGNMENTS)


def _register_composites() -> None:
    from .lowering_activations import ACTIVATIONS
    from .lowering_composites import COMPOSITES
    from .lowering_einsum import EINSUM
    from .lowering_gather import GATHERS
    from .lowering_losses import LOSSES
    from .lowering_pool import POOLS
    from .lowering_scatter import SCATTERS
    from .lowering_segments import SEGMENTS
    from .lowering_topk import TOPK
    from .lowering_triangle import TRIANGLES

    HANDLERS.update(COMPOSITES)
    HANDLERS.update(ACTIVATIONS)
    HANDLERS.update(LOSSES)
    HANDLERS.update(POOLS)
    HANDLERS.update(SEGMENTS)
    HANDLERS.update(GATHERS)
    HANDLERS.update(SCATTERS)
    HANDLERS.update(TRIANGLES)
    HANDLERS.update(TOPK)
    HANDLERS.update(EINSUM)


_register_composites()
