"""Traces a reference with torch.fx in its own process and writes the program as JSON.

    python -m kevolve.tools.offline.trace_program PROBLEM.py --out PROGRAM.json [--config NAME]
        [--dtype float32|bfloat16|float16]

It runs the problem's code (as the harness's workers do, never the caller): the model and its
inputs are built on the `meta` device, so even multi-GB problems trace in milliseconds. Floating
parameters and inputs take `--dtype` as the harness gives them in a regime, so every traced value
carries the dtype the reference computes it in. torch.fx's
symbolic tracing keeps `x.shape` symbolic, which the generated module needs to serve every
configuration; shapes are then propagated once, for choices only.

A constant in the graph may come from a model attribute (`self.lo`, `self.groups`): each scalar
attribute is perturbed and the model re-traced, and a constant that moves with it is recorded as that
attribute, so the generated code reads it at run time instead of baking one configuration's value.

Some references build their inputs from values (`int(lengths.sum())` sizes a jagged batch) or compute with
operations whose result size depends on them (`segment_reduce`, `embedding_bag`): the meta device has no
values, so those are traced on real tensors on the CPU instead, at the problem's CPU-sized configuration
(`small`, where it declares one). Only the propagated shapes differ, and they guide choices only: the graph
is symbolic either way, and every size the generated code uses is read from its inputs at run time.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import operator
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from kevolve.eval_harness.module_loader import module_from_source
from kevolve.eval_harness.precision import DType
from kevolve.eval_harness.problem import load_problem
from kevolve.eval_harness.tensors import place

from .op_names import MODULE_CALLS, canonical
from .trace_containers import unrolled_containers
from .trace_mutations import augmented_assignments_recorded, follow_mutations
from .trace_provenance import Key, provenance


class _Encoder:
    """fx arguments -> tagged JSON values, with provenance for constants."""

    def __init__(self, model: nn.Module, attribute_constants: dict[Key, tuple[str, str]]) -> None:
        self.model = model
        self.tensor_paths = {id(t): name for name, t in [*model.named_parameters(), *model.named_buffers()]}
        self.attribute_constants = attribute_constants

    def value(self, arg: Any, where: Key | None = None) -> Any:
        if isinstance(arg, torch.fx.Node):
            return {"node": arg.name}
        if isinstance(arg, list | tuple) and where in self.attribute_constants:  # a list attribute, whole
            return {"attr": self.attribute_constants[where][0], "value": list(arg)}
        if isinstance(arg, list | tuple):
            items = [self.value(item, None if where is None else (*where, place)) for place, item in enumerate(arg)]
            return {"list": items, "tuple": isinstance(arg, tuple)}
        if isinstance(arg, torch.Tensor):
            path = self.tensor_paths.get(id(arg))
            return {"param": path} if path else {"const": "<tensor>"}
        if where is not None and where in self.attribute_constants:
            path, how = self.attribute_constants[where]
            return {"attr": path, "value": arg} | ({"how": how} if how != "{0}" else {})
        if isinstance(arg, torch.dtype):
            return {"const": str(arg), "dtype": True}
        if isinstance(arg, float) and not math.isfinite(arg):
            return {"const": str(arg), "float": True}
        if arg is None or isinstance(arg, bool | int | float | str):
            return {"const": arg}
        if isinstance(arg, slice):
            return {"slice": [self.value(arg.start), self.value(arg.stop), self.value(arg.step)]}
        if arg is Ellipsis:
            return {"const": "...", "ellipsis": True}
        return {"const": repr(arg), "opaque": True}


def _module_call(node: torch.fx.Node, model: nn.Module, encoder: _Encoder) -> tuple[str, list[Any]]:
    module = model.get_submodule(node.target)
    kind = type(module).__name__
    if kind not in MODULE_CALLS:
        return f"module:{kind}", [encoder.value(a) for a in node.args]
    op, spec = MODULE_CALLS[kind]
    args: list[Any] = []
    for item in spec:
        if item == "input":
            args.append(encoder.value(node.args[0]))
        elif item.startswith("I:"):
            _, position, keyword = item.split(":")
            given = node.args[int(position)] if int(position) < len(node.args) else node.kwargs.get(keyword)
            args.append(encoder.value(given))
        elif item.startswith("P:"):
            tensor = getattr(module, item[2:], None)
            args.append({"param": f"{node.target}.{item[2:]}"} if tensor is not None else {"const": None})
        else:
            value = getattr(module, item[2:])
            args.append({"attr": f"{node.target}.{item[2:]}", "value": list(value) if isinstance(value, tuple)
                         else value})
    return op, args


def _name_of(node: torch.fx.Node) -> str:
    if node.op == "call_method":
        return canonical(node.target)
    target = node.target
    name = getattr(target, "__name__", str(target))
    return canonical(name)


@contextlib.contextmanager
def _item_assignment_recorded() -> Iterator[None]:
    """`t[index] = value` on a traced tensor becomes an `operator.setitem` node (fx's Proxy has no __setitem__, so
    tracing would fail): the lowering reads the tensor as assigned from that node on."""

    def record(proxy: torch.fx.Proxy, key: Any, value: Any) -> None:
        proxy.tracer.create_proxy("call_function", operator.setitem, (proxy, key, value), {})

    torch.fx.Proxy.__setitem__ = record
    try:
        yield
    finally:
        del torch.fx.Proxy.__setitem__


# Factories whose sizes may be traced values (`torch.ones(n, n)` with n = x.shape[-1]): PyTorch's argument parser
# refuses a Proxy among varargs sizes before fx could record the call.
FACTORIES = ("ones", "zeros", "full", "empty")


@contextlib.contextmanager
def _factories_recorded() -> Iterator[None]:
    """A factory call with a traced size becomes a `call_function` node of the factory itself, as fx records one
    whose sizes are plain ints."""
    originals = {name: getattr(torch, name) for name in FACTORIES}

    def recording(factory: Any) -> Any:
        @functools.wraps(factory)
        def call(*args: Any, **kwargs: Any) -> Any:
            traced = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.fx.Proxy)]
            if not traced:
                return factory(*args, **kwargs)
            return traced[0].tracer.create_proxy("call_function", factory, args, kwargs)
        return call

    for name, factory in originals.items():
        setattr(torch, name, recording(factory))
    try:
        yield
    finally:
        for name, factory in originals.items():
            setattr(torch, name, factory)


def _built(module: Any, device: torch.device, dtype: torch.dtype) -> tuple[nn.Module, list[Any]]:
    with device:
        torch.manual_seed(0)
        model = module.Model(*module.get_init_inputs()).to(dtype=dtype)
        inputs = list(place(list(module.get_inputs()), device, dtype))
    return model, inputs


def _symbolic_trace(model: nn.Module) -> torch.fx.GraphModule:
    """torch.fx's trace with buffers traced as parameters are: `self.scale.view(1, -1, 1)` is a view of the buffer
    at run time, not a tensor computed once while tracing (which fx would attach as a constant)."""
    tracer = torch.fx.Tracer()
    tracer.proxy_buffer_attributes = True
    graph = tracer.trace(model)
    constants = [node.target for node in graph.nodes if node.op == "get_attr"
                 and str(node.target) not in dict(model.named_parameters()) | dict(model.named_buffers())]
    if constants:
        raise ValueError(f"the forward makes a tensor while it is traced ({', '.join(map(str, constants))}: "
                         "torch.tensor(...) of constants, or arithmetic on a plain tensor attribute): its values would "
                         "be kept from the traced model")
    return torch.fx.GraphModule(tracer.root, graph, type(model).__name__)


def trace(source: str, overrides: dict[str, Any], workdir: Path, dtype: torch.dtype = torch.float32,
          device: str = "meta") -> dict[str, Any]:
    """The traced program; `device` "cpu" builds and propagates real tensors (for data-dependent sizes)."""
    module = module_from_source(source, stem="traced_problem", workdir=workdir, overrides=overrides)
    model, inputs = _built(module, torch.device(device), dtype)
    with _item_assignment_recorded(), _factories_recorded(), augmented_assignments_recorded():
        graph_module = _symbolic_trace(model)
        unrolled = unrolled_containers(graph_module.graph, model)
        attributes, derived = provenance(model, graph_module.graph, lambda m: _symbolic_trace(m).graph)
    with torch.no_grad():  # in-place steps act on the propagated tensors as in the reference: shapes are the same
        ShapeProp(graph_module).propagate(*inputs)
    follow_mutations(graph_module.graph, model)
    graph_module.recompile()
    encoder = _Encoder(model, attributes)
    inputs_named: list[str] = []
    input_meta: dict[str, Any] = {}
    nodes: list[dict[str, Any]] = []
    unknown: list[str] = []
    output: Any = None
    for node in graph_module.graph.nodes:
        meta = node.meta.get("tensor_meta")
        tensor_meta = ({"shape": list(meta.shape), "dtype": str(meta.dtype)}
                       if meta is not None and hasattr(meta, "shape") else None)
        if node.op == "placeholder":
            inputs_named.append(node.name)
            if tensor_meta:
                input_meta[node.name] = tensor_meta
            continue
        if node.op == "output":
            output = encoder.value(node.args[0])
            continue
        if node.op == "get_attr":
            op, args = "param", [{"param": node.target}]
        elif node.op == "call_module":
            op, args = _module_call(node, model, encoder)
        else:
            op = _name_of(node)
            args = [encoder.value(a, (node.name, i)) for i, a in enumerate(node.args)]
        offset = len(node.args)
        kwargs = {key: encoder.value(value, (node.name, offset + i))
                  for i, (key, value) in enumerate(node.kwargs.items())}
        if op.startswith("module:"):
            unknown.append(op)
        nodes.append({"name": node.name, "op": op, "args": args, "kwargs": kwargs, "meta": tensor_meta})
    param_meta = {name: {"shape": list(t.shape), "dtype": str(t.dtype)}
                  for name, t in [*model.named_parameters(), *model.named_buffers()]}
    return {"inputs": inputs_named, "input_meta": input_meta, "param_meta": param_meta, "nodes": nodes,
            "output": output, "unknown": unknown, "derived_constants": derived, "traced_on": device,
            "unrolled": unrolled}


def _needs_values(exc: Exception) -> bool:
    """Whether tracing failed because the meta device has no values (data-dependent sizes), not the reference."""
    text = str(exc)
    return isinstance(exc, NotImplementedError | RuntimeError) and ("meta" in text or "data-dependent" in text
                                                                      or "Meta" in text)


def _where(exc: Exception, workdir: Path) -> str:
    """Where in the reference tracing stopped: its innermost line in the traceback, so that a person reads which
    branch or loop on a value (or which call) the engine could not follow; '' when the reference is not in it."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if Path(frame.filename).parent == workdir]
    if not frames:
        return ""
    return f", at the reference's line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("problem")
    parser.add_argument("--config", default="default")
    parser.add_argument("--dtype", default=DType.FLOAT32.value, choices=[d.value for d in DType])
    parser.add_argument("--out", type=Path, required=True, help="where the program (or the error) goes, as JSON")
    args = parser.parse_args(argv)
    problem = load_problem(args.problem)
    with tempfile.TemporaryDirectory(prefix="kevolve-trace-") as workdir:
        dtype = getattr(torch, args.dtype)
        try:
            try:
                program = trace(problem.source, problem.overrides(args.config), Path(workdir), dtype)
            except Exception as exc:
                if not _needs_values(exc):
                    raise
                config = problem.primary_config(on_cpu=True)
                program = trace(problem.source, problem.overrides(config), Path(workdir), dtype, device="cpu")
                program["traced_on"] = f"cpu, config {config!r}: the meta device could not ({exc})"[:300]
        except Exception as exc:
            args.out.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}{_where(exc, Path(workdir))}"}))
            return 1
    args.out.write_text(json.dumps(program))
    return 0


if __name__ == "__main__":
    sys.exit(main())
