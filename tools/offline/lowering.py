"""Traced reference -> Program: canonical operations become primitives, views and vendor calls.

Composite operations are written as the primitives they are made of (softmax is a max, a
subtraction, an exponential, a sum and a division), so one fusion rule covers them all. Anything
else that computes and is not a vendor GEMM or convolution is recorded as unsupported: the offline
engine then writes no candidate rather than one that leaves PyTorch doing the work.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from . import dtypes
from .formulas import POINTWISE, ROUNDED_TO
from .program import PrimKind, PrimStep, Program, PyStep, Scalar, ScatterSpec, SegmentSpec, Shape, names_in
from .signatures import SIGNATURES
from .traced import TensorMeta, TracedNode, TracedProgram, tag_of
from .view_motion import move_views

# Not einsum: its subscripts decide whether it is a GEMM at all (`"ij->i"` is a row sum), so the harness's hybrid
# policy does not count it as a vendor call (static_checks/names.py); lowering_einsum.py writes it as a product
# and a sum instead.
VENDOR_CALLS = {
    "linear": "torch.nn.functional.linear", "matmul": "torch.matmul", "mm": "torch.mm", "bmm": "torch.bmm",
    "addmm": "torch.addmm", "baddbmm": "torch.baddbmm", "conv1d": "torch.nn.functional.conv1d",
    "conv2d": "torch.nn.functional.conv2d", "conv3d": "torch.nn.functional.conv3d",
    "conv_transpose1d": "torch.nn.functional.conv_transpose1d",
    "conv_transpose2d": "torch.nn.functional.conv_transpose2d",
    "conv_transpose3d": "torch.nn.functional.conv_transpose3d",
    # Attention stays PyTorch's fused kernel (flash or memory-efficient, as the reference gets it) under `hybrid`:
    # the engine fuses what surrounds it (a transformer block's norms, projections' epilogues, residuals).
    "sdpa": "torch.nn.functional.scaled_dot_product_attention",
}
# The memory format a convolution's operands take in a channels-last schedule: cuDNN's tensor-core kernels
# (TF32, bf16, fp16) work on NHWC natively, and the output comes back channels-last for the epilogue to read.
CHANNELS_LAST = {"conv2d": "torch.channels_last", "conv_transpose2d": "torch.channels_last",
                 "conv3d": "torch.channels_last_3d", "conv_transpose3d": "torch.channels_last_3d"}
VIEW_METHODS = {"view", "reshape", "permute", "transpose", "flatten", "unsqueeze", "squeeze", "expand",
                "contiguous", "t", "expand_as", "view_as", "reshape_as", "unflatten", "narrow", "select",
                "movedim", "chunk", "split", "unbind", "size", "dim", "numel"}
# The same values, perhaps in another dtype (a conversion is then an elementwise step).
SAME_VALUE = {"float", "to", "type_as", "clone", "detach", "identity", "dropout", "long", "int", "short", "bool",
              "byte", "char", "double", "half", "bfloat16"}
PYTHON_ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floor_divide": "//", "remainder": "%",
                     "neg": "-", "bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^", "left_shift": "<<",
                     "right_shift": ">>", "pow": "**"}


def self_path(path: str) -> str:
    """`layers.0.weight` -> `self.layers[0].weight`: how the generated forward reaches a model attribute."""
    return "self" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in path.split("."))


def shape_of(meta: TensorMeta | None) -> Shape | None:
    return Shape(tuple(meta.shape), meta.dtype) if meta is not None else None


class LoweringState:
    """What the handlers build: the steps so far, every tensor's traced shape, and the tuples of values."""

    def __init__(self, traced: TracedProgram, *, gemm_in_triton: bool = False, vendor_fallback: bool = False,
                 channels_last: bool = False, reshaped_pools: bool = False) -> None:
        self.traced = traced
        self.channels_last = channels_last  # vendor convolutions run on channels-last input and weight
        self.reshaped_pools = reshaped_pools  # tiling pools are reductions over reshaped windows (lowering_pool)
        self.gemm_in_triton = gemm_in_triton  # `strict`: GEMMs are kernels of ours, not cuBLAS calls
        self.vendor_fallback = vendor_fallback  # GEMMs with no Triton template stay vendor calls (under `hybrid`)
        self.steps: list[PyStep | PrimStep] = []
        self.tensors: dict[str, Shape] = {name: Shape(tuple(m.shape), m.dtype) for name, m in traced.input_meta.items()}
        self.tuples: dict[str, list[str]] = {}
        # A tuple's element that the reference names (`topk(...).indices`, `values, ids = ...`) -> the step that
        # computes it: read under that step's name, a kernel's value stays in the kernel that computes it.
        self.aliases: dict[str, str] = {}
        self.params: dict[str, str] = {}
        self.unsupported: list[str] = []
        # Model attributes whose traced value chose the program's structure (Program.baked).
        self.baked: list[str] = list(traced.derived_constants)
        self.lookups: dict[str, tuple[str, str]] = {}  # an embedding's result -> its table and ids (lowering_gather)
        self.index_tensors: set[str] = set()  # arange stand-ins and their views (lowering_index.py)
        # An arange's start and step, kept on its stand-in's views and applied where a primitive reads one, so
        # that a view of `arange(3, n, 2)` stays a view of the stand-in.
        self.index_affine: dict[str, tuple[Scalar, Scalar]] = {}
        self.affine_values: dict[str, str] = {}
        # Values computed from a stand-in alone (a row's segment, lowering_repeat.py) -> that stand-in and how to
        # compute the value from a view of it: a view of the value is then recomputed, never materialised.
        self.recomputed: dict[str, tuple[str, Callable[[str], str]]] = {}
        # A tensor assigned into by index (`t[mask] = v`, lowering_assign.py) -> the value it holds from then on.
        self.assigned: dict[str, str] = {}
        self.counter = 0
        self.traced_names = {node.name for node in traced.nodes} | set(traced.inputs)

    # --- values -------------------------------------------------------------------------------

    def fresh(self, base: str) -> str:
        """A name for a step of ours, never one the trace gives a node (fx names them `mul_1` too)."""
        while True:
            self.counter += 1
            name = f"{base}_{self.counter}"
            if name not in self.traced_names:
                return name

    def channel_view(self, tensor: str, rank: int, base: str) -> str:
        """A per-channel tensor (C,) viewed as (1, C, 1, ...), to broadcast along dim 1 of a tensor of `rank` dims."""
        return self.emit_py(self.fresh(base), f"{tensor}.view(1, -1{', 1' * (rank - 2)})",
                            Shape((1, self.shape(tensor)[0], *(1,) * (rank - 2)), self.tensors[tensor].dtype))

    def py(self, arg: Any) -> str:
        """A tagged value as a Python expression in the generated forward."""
        tag = tag_of(arg)
        if tag == "node":
            name = self.aliases.get(arg["node"], arg["node"])
            return self.assigned.get(name, name)
        if tag == "param":
            return self.param(arg["param"])
        if tag == "attr":
            return arg.get("how", "{0}").format(self_path(arg["attr"]))
        if tag == "list":
            items = [self.py(item) for item in arg["list"]]
            joined = ", ".join(items)
            return f"({joined}{',' if len(items) == 1 else ''})" if arg.get("tuple") else f"[{joined}]"
        if isinstance(arg, dict) and "slice" in arg:
            return ":".join("" if self.py(part) == "None" else self.py(part) for part in arg["slice"])
        value = arg.get("const") if isinstance(arg, dict) else arg
        if isinstance(arg, dict) and arg.get("dtype"):
            return str(value)
        if isinstance(arg, dict) and arg.get("float"):
            return f"float('{value}')"
        if isinstance(arg, dict) and arg.get("ellipsis"):
            return "..."
        return repr(value)

    def value(self, arg: Any) -> Any:
        """The traced value of an argument (for structural choices such as dims)."""
        tag = tag_of(arg)
        if tag == "attr":
            return arg["value"]
        if tag == "list":
            return [self.value(item) for item in arg["list"]]
        if tag == "const":
            return arg["const"]
        return None

    def param(self, path: str) -> str:
        if path not in self.params:
            name = "p_" + path.replace(".", "_")
            self.params[path] = name
            meta = self.traced.param_meta.get(path)
            self.steps.append(PyStep(name, self_path(path), shape_of(meta)))
            if meta is not None:
                self.tensors[name] = shape_of(meta)
        return self.params[path]

    def is_tensor(self, node: str) -> bool:
        """Whether a traced node (or the tuple element it names) is a tensor."""
        return self.aliases.get(node, node) in self.tensors

    def operand(self, arg: Any) -> str | Scalar:
        tag = tag_of(arg)
        if tag == "node" and arg["node"] in self.aliases:
            arg = {**arg, "node": self.aliases[arg["node"]]}
        if tag == "param":
            return self.param(arg["param"])
        if tag == "node" and arg["node"] in self.tensors:
            return self.scaled_index(self.assigned.get(arg["node"], arg["node"]))
        if tag == "node":
            return Scalar(arg["node"], literal=False)
        if tag == "attr" and (isinstance(arg["value"], bool) or not isinstance(arg["value"], int | float)):
            # Strings and flags choose code (gelu's `approximate`), so they are written into the kernel.
            return Scalar(repr(arg["value"]), literal=True)
        if tag == "attr":
            return Scalar(self.py(arg), literal=False)
        return Scalar(self.py(arg), literal=True)

    def scaled_index(self, name: str) -> str:
        """An arange's view as a primitive reads it: `start + step * index`, computed once per view."""
        if name not in self.index_affine:
            return name
        if name not in self.affine_values:
            start, step = self.index_affine[name]
            self.affine_values[name] = self.pw("add", self.pw("mul", name, step), start)
        return self.affine_values[name]

    def shape(self, operand: str | Scalar) -> tuple[int, ...]:
        return self.tensors[operand].dims if isinstance(operand, str) else ()

    # --- emitting -----------------------------------------------------------------------------

    def decline(self, node: TracedNode, why: str) -> None:
        """`node` has no generator in this form: `why` joins the reasons, and its value is left empty."""
        self.unsupported.append(f"{node.op} {why}")
        self.emit_py(node.name, f"None  # unsupported: {node.op} {why}")

    def emit_py(self, name: str, code: str, shape: Shape | None = None, vendor: str | None = None) -> str:
        self.steps.append(PyStep(name, code, shape, vendor))
        if shape is not None:
            self.tensors[name] = shape
        return name

    def emit_prim(self, kind: PrimKind, fn: str, args: list[str | Scalar], *, name: str | None = None,
                  dims: tuple[int, ...] = (), keepdim: bool = False, index: bool = False,
                  shape_override: tuple[int, ...] | None = None, segment: SegmentSpec | None = None,
                  scatter: ScatterSpec | None = None, dtype: str | None = None) -> str:
        name = name or self.fresh(fn)
        if shape_override is not None:
            dims_out = shape_override
        elif kind == "pointwise":
            dims_out = tuple(torch.broadcast_shapes(*[self.shape(a) for a in args]))
        else:
            source = self.shape(args[0])
            dims_out = source if kind == "scan" else tuple(
                1 if i in dims else size for i, size in enumerate(source) if keepdim or i not in dims)
        shape = Shape(dims_out, dtype or self.result_dtype(kind, fn, args, index))
        self.steps.append(PrimStep(name, kind, fn, tuple(args), shape, dims, keepdim, index, segment, scatter))
        self.tensors[name] = shape
        return name

    def result_dtype(self, kind: PrimKind, fn: str, args: list[str | Scalar], index: bool) -> str:
        """The dtype PyTorch gives this step's value in the traced regime (dtypes.py for elementwise steps).

        This is the dtype a value is stored in when it leaves a kernel. Reductions, scans and windows compute in
        fp32: their value is their floating operands' promotion, float32 where only integers or flags are read.
        """
        if index:
            return "torch.int64"
        values = args[1:] if fn == "where" else args
        tensors = [self.tensors[a].dtype for a in values if isinstance(a, str)]
        if kind == "pointwise":
            return dtypes.result_dtype(fn, tensors, [a for a in values if isinstance(a, Scalar)])
        floating = [dtype for dtype in tensors if "float" in dtype]
        return dtypes.promoted(floating, []) if floating else "torch.float32"

    def reduce(self, fn: str, x: str, dims: tuple[int, ...], keepdim: bool, name: str | None = None,
               index: bool = False) -> str:
        return self.emit_prim("reduce", fn, [x], name=name, dims=dims, keepdim=keepdim, index=index)

    def reduced_view(self, x: str, dims: tuple[int, ...], keepdim: bool) -> str:
        """A keepdim=True reduction's result seen as keepdim=False when asked (a free relabelling in a kernel)."""
        if keepdim:
            return x
        dropped = tuple(size for i, size in enumerate(self.shape(x)) if i not in dims)
        return self.emit_prim("pointwise", "identity", [x], shape_override=dropped, dims=dims)

    def reduced_count(self, correction: int) -> Scalar:
        """How many elements the kernel reduces, less a correction: `R` is the kernel's reduced length."""
        return Scalar(f"(R - {correction})" if correction else "R", literal=True)

    def pw(self, fn: str, *args: str | Scalar, name: str | None = None) -> str | Scalar:
        """An elementwise step; on scalars alone, the scalar it computes (folded, or computed in forward)."""
        if any(isinstance(arg, str) for arg in args) or name is not None:
            return self.emit_prim("pointwise", fn, list(args), name=name)
        expression = POINTWISE[fn](*(arg.expr for arg in args))
        if "tl." in expression:
            self.unsupported.append(f"{fn} of scalars")
        return Scalar(expression, literal=all(arg.literal for arg in args))

    def input_dtypes(self) -> set[str]:
        """The dtypes of the forward's inputs and the model's parameters: the regime's."""
        return {meta.dtype for meta in [*self.traced.input_meta.values(), *self.traced.param_meta.values()]}

    def take_traced_dtype(self, node: TracedNode) -> None:
        """A value the reference names is stored in the dtype the trace saw it in.

        Promotion gets most steps right; a composite's last step may not (cross-entropy's mean divides by a
        float32 count, while PyTorch's loss keeps its logits' dtype).
        """
        shape = self.tensors.get(node.name)
        if node.meta is None or shape is None or shape.dtype == node.meta.dtype:
            return
        for i, step in enumerate(self.steps):
            if isinstance(step, PrimStep) and step.name == node.name:
                self.tensors[node.name] = Shape(shape.dims, node.meta.dtype)
                self.steps[i] = replace(step, shape=self.tensors[node.name])

    # --- binding ------------------------------------------------------------------------------

    def bind(self, node: TracedNode) -> dict[str, Any]:
        names = SIGNATURES.get(node.op)
        if names is None:
            return {str(i): arg for i, arg in enumerate(node.args)} | node.kwargs
        bound: dict[str, Any] = {}
        for i, spec in enumerate(names):
            key, _, default = spec.partition("=")
            if i < len(node.args):
                bound[key] = node.args[i]
            elif key in node.kwargs:
                bound[key] = node.kwargs[key]
            elif default:
                bound[key] = {"const": ast.literal_eval(default)}
        return bound

    def dims_of(self, x: str, dim: Any) -> tuple[int, ...]:
        rank = len(self.shape(x))
        value = self.value(dim)
        if value is None or rank == 0:  # rank 0: an operand an unsupported step left without a shape
            return tuple(range(rank))
        values = value if isinstance(value, list) else [value]
        return tuple(sorted(int(v) % rank for v in values))


_CONVERSIONS = {"identity", *ROUNDED_TO.values()}


def lower(traced: TracedProgram, *, gemm_in_triton: bool = False, vendor_fallback: bool = False,
          channels_last: bool = False, reshaped_pools: bool = False) -> Program:
    """`gemm_in_triton`: linear layers and 2-D matmuls become Triton GEMMs (the `strict` policy, or a `hybrid`
    schedule that fuses them with their neighbours); `vendor_fallback`: other GEMMs stay vendor calls;
    `channels_last`: 2-D and 3-D convolutions read their input and weight channels-last (CHANNELS_LAST);
    `reshaped_pools`: pools whose windows tile their input are reductions over a reshaped view."""
    state = LoweringState(traced, gemm_in_triton=gemm_in_triton, vendor_fallback=vendor_fallback,
                          channels_last=channels_last, reshaped_pools=reshaped_pools)
    for node in traced.nodes:
        handler = _handler_for(node, state)
        if handler is None:
            state.unsupported.append(node.op)
            state.emit_py(node.name, f"None  # unsupported: {node.op}", shape_of(node.meta))
            continue
        try:
            handler(state, node)
        except (KeyError, ValueError, TypeError, IndexError, ArithmeticError):
            if not state.unsupported:
                raise
            # It reads what an unsupported step left unshaped: that step, already recorded, is the reason.
            state.emit_py(node.name, f"None  # follows an unsupported step: {node.op}", shape_of(node.meta))
            continue
        state.take_traced_dtype(node)
    output = state.py(traced.output)
    if any(isinstance(step, PrimStep) and step.fn not in _CONVERSIONS
           and any(state.tensors[arg].dtype == "torch.float64" for arg in step.tensor_args()) for step in state.steps):
        # Values a reference made float64 (`x.double() * 1e8`) are there for their precision; a float64 result
        # of float32 values (a weighted bincount, sum(dtype=float64)) is only stored so.
        state.unsupported.append("arithmetic on float64 values (kernels compute in float32)")
    _keep_index_tensors_in_kernels(state, output)
    steps = move_views(state.steps, output, state.tensors, state.index_tensors)
    return Program(list(traced.inputs), live_steps(steps, output), output, state.tensors, state.unsupported,
                   state.baked, state.index_tensors, dict(traced.unrolled))


def _keep_index_tensors_in_kernels(state: LoweringState, output: str) -> None:
    """An arange's stand-in has no memory: only kernels (and views, and sizes) may read it."""
    for step in state.steps:
        if isinstance(step, PyStep) and step.shape is not None and step.name not in state.index_tensors \
                and names_in(step.code) & state.index_tensors:
            state.unsupported.append(f"{step.name}: a Python step reading an arange")
    if names_in(output) & state.index_tensors:
        state.unsupported.append("an arange returned as it is")


def live_steps(steps: list[PyStep | PrimStep], output: str) -> list[PyStep | PrimStep]:
    """The steps the output needs: a lookup that a reduction of it replaced (an embedding summed over its ids is
    an embedding bag) leaves a step that nothing reads, which would otherwise still be computed."""
    needed = names_in(output)
    kept: list[PyStep | PrimStep] = []
    for step in reversed(steps):
        if step.name not in needed:
            continue
        kept.append(step)
        if isinstance(step, PyStep):
            needed |= names_in(step.code)
            continue
        needed |= set(step.tensor_args())
        needed |= {name for arg in step.args if isinstance(arg, Scalar) for name in names_in(arg.expr)}
    return kept[::-1]


Handler = Callable[[LoweringState, TracedNode], None]


def _handler_for(node: TracedNode, state: LoweringState) -> Handler | None:
    # The handler modules import this one for LoweringState, so the table is looked up at call time.
    from .lowering_ops import HANDLERS, python_value

    second = node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
    if node.op in ("max", "min") and tag_of(second) in ("node", "param") \
            and (tag_of(second) == "param" or state.is_tensor(second["node"])):
        return HANDLERS["maximum" if node.op == "max" else "minimum"]
    if node.op in ("max", "min", "topk", "chunk", "split", "unbind"):  # a tuple of tensors: the trace gives no meta
        return HANDLERS[node.op]
    if node.meta is None and node.op not in ("param", "setitem"):
        return python_value
    return HANDLERS.get(node.op)
