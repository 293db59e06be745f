"""Rules about where the arithmetic happens and at which precision."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..precision import DType
from ..results import Severity
from . import cuda_source
from . import names as n
from .classify import Category, classify, classify_method
from .facts import CallFact, Facts
from .formats import allowed, format_of, regime_text
from .registry import CheckContext, Hit, rule

_KERNEL_HINT = "compute it in your own Triton / CUDA kernel (outside kernels, only allocation, views and metadata)"


def _refused(category: Category, ctx: CheckContext) -> bool:
    if category is Category.VENDOR_HEAVY:
        return not ctx.allow_vendor_heavy
    return category in (Category.COMPUTE, Category.COMPILER)


def _why(label: str, category: Category) -> str:
    if category is Category.COMPILER:
        return f"`{label}` hands the model to a PyTorch compiler or tracer, whose kernels are not yours"
    if category is Category.VENDOR_HEAVY:
        return (f"`{label}` is a vendor library's call; under `strict` GEMMs, convolutions and attention are "
                "yours to write too")
    if label.startswith("numpy."):
        return f"`{label}` computes on the host with NumPy; {_KERNEL_HINT}"
    return f"`{label}` is PyTorch compute outside a kernel; {_KERNEL_HINT}"


def _escape_why(label: str, category: Category) -> str:
    if category is Category.COMPILER:
        return _why(label, category)
    return _why(label, category) + " (passed on as a value, it runs where it is called)"


def _call_hits(facts: Facts, ctx: CheckContext, *, init: bool) -> Iterator[Hit]:
    for call in facts.calls:
        if call.where.kernel or call.where.init is not init:
            continue
        line = call.where.line
        if call.name and _refused(category := classify(call.name), ctx):
            yield Hit(line, _why(call.name, category))
        elif call.method and not call.plain_receiver and _refused(category := classify_method(call.method), ctx):
            if call.method in n.HOST_TRANSFER_METHODS:
                yield Hit(line, f"`.{call.method}()` moves tensor data to the host, where compute escapes every "
                                f"check; {_KERNEL_HINT}")
            else:
                yield Hit(line, _why(f".{call.method}()", category) + " (judged as a tensor method: the "
                                "receiver's type is unknown before run time)")
        if call.layer is not None and not (call.layer and ctx.allow_vendor_heavy):
            kind = " (cuBLAS / cuDNN: allowed only under `hybrid`)" if call.layer else ""
            yield Hit(line, f"calling {_callee(call)} runs an nn layer's PyTorch forward{kind}; pass the layer's "
                            "weights to your kernel instead")
        if _dynamic_lookup(facts, call):
            yield Hit(line, "`getattr` on a torch / numpy module with a computed name hides which function runs")
    for symbol, where in facts.tensor_ops:
        if not where.kernel and where.init is init:
            yield Hit(where.line, f"`{symbol}` on a torch.Tensor argument is PyTorch compute; {_KERNEL_HINT}")
    for where in facts.matmuls:
        if not where.kernel and where.init is init and not ctx.allow_vendor_heavy:
            yield Hit(where.line, "the `@` operator is a cuBLAS matmul; under `strict` write the GEMM in your kernel")


def _callee(call: CallFact) -> str:
    return f"`{ast.unparse(call.node.func)}(...)`"


def _dynamic_lookup(facts: Facts, call: CallFact) -> bool:
    args = call.node.args
    if call.local != "getattr" or "getattr" in facts.symbols.defined or len(args) < 2:
        return False
    base = facts.symbols.canonical(args[0]) or ""
    computed = not (isinstance(args[1], ast.Constant) and isinstance(args[1].value, str))
    return computed and base.split(".")[0] in n.TENSOR_LIBRARIES


@rule("torch_compute", Severity.ERROR)
def torch_compute(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """PyTorch (or NumPy) doing the reference's arithmetic outside the candidate's kernels.

    The candidate would be timed on PyTorch's kernels and rewarded for a speedup it did not write.
    Under `hybrid`, GEMM, convolution and fused attention (torch.matmul, F.linear, F.conv*, `@`, nn.Linear /
    nn.Conv* layers, F.scaled_dot_product_attention) may stay with the vendor libraries; everything else is still
    refused.
    """
    yield from _call_hits(facts, ctx, init=False)
    for cls in facts.classes:  # class ModelNew(nn.Linear): the layer's forward is PyTorch's
        kind = facts.symbols.layer_classes.get(cls.name)
        if kind is not None and not (kind and ctx.allow_vendor_heavy):
            yield Hit(cls.where.line, f"class `{cls.name}` derives from an nn layer, so its forward is PyTorch's; "
                                      "derive from nn.Module and launch your kernel")
    for ref in facts.refs:  # a compute function passed or stored as a value is called somewhere else
        escapes = ref.ctx == "load" and ref.role != "alias" and not ref.where.kernel
        if escapes and _refused(category := classify(ref.name), ctx):
            yield Hit(ref.where.line, _escape_why(ref.name, category))
    for imp in facts.imports:
        if "*" in imp.names and imp.module.split(".")[0] in n.TENSOR_LIBRARIES:
            yield Hit(imp.where.line, f"`from {imp.module} import *` hides which functions are called; import names")
    for ext in facts.extensions:
        srcs = cuda_source.sources(ext.sources)
        for match in cuda_source.aten_calls(srcs):
            if _refused(category := classify(match.text), ctx):
                yield Hit(match.line, "in the C++ source, " + _why(match.text.replace(".", "::"), category))
        for match in cuda_source.method_calls(srcs):
            if _refused(classify_method(match.text), ctx):
                yield Hit(match.line, f"the C++ source calls ATen's tensor method `.{match.text}()`; {_KERNEL_HINT}")


@rule("init_compute", Severity.WARNING)
def init_compute(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """PyTorch compute at import time or directly in `__init__`.

    It runs once, before any input exists, so it cannot compute outputs; but it can precompute
    weight-derived values (folded or transposed weights, lookup tables) that a reviewer should see
    next to the reference's own `__init__`.
    """
    for hit in _call_hits(facts, ctx, init=True):
        yield Hit(hit.line, hit.reason + " (at import / construction time)")


def _low_precision(facts: Facts, node: ast.AST) -> str | None:
    name = facts.symbols.canonical(node) or ""
    if name in n.LOW_PRECISION_TORCH_DTYPES or name in n.LOW_PRECISION_TRITON_DTYPES:
        return name
    if name.startswith(n.LOW_PRECISION_TRITON_PREFIX):
        return name
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "HalfTensor" in node.value:
        return node.value
    return None


def _downcast(facts: Facts, call: CallFact, ctx: CheckContext) -> str | None:
    """What in `call` computes below the regime, or None."""
    node = call.node
    if call.method in n.DOWNCAST_METHODS and not call.plain_receiver and not allowed(format_of(call.method), ctx.math):
        return f"`.{call.method}()`"
    # dtype= anywhere; positional dtypes in conversions (x.to(torch.half)) and in kernels (tl.zeros(s, tl.float16))
    values = [k.value for k in node.keywords if k.arg in ("dtype", "out_dtype")]
    if call.method in ("to", "type") or call.where.kernel:
        values += node.args
    for value in values:
        if (low := _low_precision(facts, value)) and not allowed(format_of(low), ctx.math):
            return f"`{low}`"
    if call.name == n.TRITON_DOT and not allowed(DType.TF32, ctx.math):
        options = {k.arg: k.value for k in node.keywords}
        tf32 = options.get("allow_tf32")
        precision = options.get("input_precision")
        if isinstance(tf32, ast.Constant) and tf32.value is True:
            return "`tl.dot(..., allow_tf32=True)`"
        if isinstance(precision, ast.Constant) and precision.value not in n.FP32_DOT_PRECISIONS:
            return f"`tl.dot(..., input_precision={precision.value!r})`"
    if call.name and call.name.endswith(".dot_scaled"):
        return "`tl.dot_scaled` (fp8 / fp4 operands)"
    if call.name == "torch.set_float32_matmul_precision":
        # Setting the value the regime already has changes nothing; any other value changes the reference's math.
        arg = node.args[0] if node.args else None
        unchanged = isinstance(arg, ast.Constant) and arg.value == ctx.math.matmul_precision
        return None if unchanged else "`set_float32_matmul_precision`"
    return None


@rule("precision_downcast", Severity.ERROR)
def precision_downcast(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Computing below the evaluation's precision regime: a format with fewer mantissa bits than the regime's
    dtype, fp8, TF32 where the regime keeps fp32 products, or switching the regime's flags (in Python, in
    kernels or in CUDA).

    Lower-precision arithmetic is several times faster, so a downcast buys a speedup that is not an
    optimisation; it often still passes a loose tolerance on small inputs.
    """
    below = f"lowers the precision below {regime_text(ctx.math)}; keep its dtype and accumulate in fp32"
    for call in facts.calls:
        if what := _downcast(facts, call, ctx):
            yield Hit(call.where.line, f"{what} {below}")
    for call in facts.calls:
        switch = call.name and classify(call.name) is Category.PRECISION
        if switch and call.name != "torch.set_float32_matmul_precision":
            yield Hit(call.where.line, f"`{call.name}` enables mixed precision; the regime sets the precision")
    for ref in facts.refs:  # writing a TF32 switch, or passing autocast on; reading a switch is harmless
        written = ref.ctx != "load" or not ref.name.startswith("torch.backends")
        if written and classify(ref.name) is Category.PRECISION:
            yield Hit(ref.where.line, f"`{ref.name}` switches TF32 / reduced-precision math; the harness sets "
                                      "them for the regime: leave them untouched")
    for ext in facts.extensions:
        for match in cuda_source.downcasts(cuda_source.sources(ext.sources)):
            if not allowed(format_of(match.text), ctx.math):
                yield Hit(match.line, f"the CUDA source converts with `{match.text}`, which {below}")


@rule("implicit_tf32", Severity.WARNING)
def implicit_tf32(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """A Triton matmul whose precision is left to Triton's default, TF32 for fp32 operands on tensor cores,
    in a regime that keeps fp32 products.

    TF32 keeps 10 mantissa bits; on long reductions it misses the float32 tolerance or passes by luck.
    """
    if allowed(DType.TF32, ctx.math):
        return
    reason = ("{} on fp32 operands defaults to TF32 on tensor-core GPUs; pass input_precision=\"ieee\" "
              "(or \"tf32x3\") unless the operands are already half precision")
    for call in facts.calls:
        if call.where.kernel and call.name == n.TRITON_DOT and len(call.node.args) < 4 and not any(
                k.arg in ("input_precision", "allow_tf32") for k in call.node.keywords):
            yield Hit(call.where.line, reason.format("`tl.dot`"))
    for where in facts.matmuls:
        if where.kernel:
            yield Hit(where.line, reason.format("`@` (tl.dot)"))
