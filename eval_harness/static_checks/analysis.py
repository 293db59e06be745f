"""The fact pass: one walk over a candidate's AST that records calls, uses and structure with lines."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from . import names as n
from .bindings import collect_symbols
from .classify import is_custom_op
from .facts import (
    CallFact,
    ClassFact,
    ExtensionFact,
    Facts,
    FunctionFact,
    ImportFact,
    LaunchFact,
    RefFact,
    TryFact,
    Where,
)
from .symbols import Symbols, decorator_names, target_key

# Arithmetic, bitwise and comparison operators: on a tensor, each is an ATen kernel. (`is`, `in`, `not`
# and `@` are absent: the first three compute nothing on a tensor, and `@` is judged as a GEMM.)
_OPERATORS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.USub: "unary -",
    ast.Invert: "~", ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
}
# load_inline(name, cpp_sources, cuda_sources, ...): where the source text comes in.
_SOURCE_ARGS = {"cpp_sources": 1, "cuda_sources": 2}


@dataclass(frozen=True)
class _Context:
    scope: int = 0
    function: str | None = None
    kernel: str | None = None
    init: bool = True
    forward: bool = False
    tensors: frozenset[str] = frozenset()  # parameters annotated torch.Tensor: operators on them are compute


def analyse(tree: ast.Module, source: str = "") -> Facts:
    visitor = _FactVisitor(collect_symbols(tree), tree)
    visitor.visit(tree)
    visitor.facts.source = source
    return visitor.facts


class _FactVisitor(ast.NodeVisitor):
    def __init__(self, symbols: Symbols, tree: ast.Module) -> None:
        self.symbols = symbols
        self.facts = Facts(symbols=symbols)
        self.ctx = _Context()
        self.parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def where(self, node: ast.AST) -> Where:
        c = self.ctx
        return Where(getattr(node, "lineno", 1), c.scope, c.function, c.kernel, c.init, c.forward)

    def visit_in(self, nodes: list[ast.AST], ctx: _Context) -> None:
        outer, self.ctx = self.ctx, ctx
        for node in nodes:
            self.visit(node)
        self.ctx = outer

    # --- structure ------------------------------------------------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.facts.functions.append(FunctionFact(node.name, tuple(decorator_names(node, self.symbols)),
                                                 self.where(node)))
        outer = [*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d)]
        params = (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
        extra = [a for a in (node.args.vararg, node.args.kwarg) if a]
        outer += [a.annotation for a in (*params, *extra) if a.annotation]
        outer += [node.returns] if node.returns else []
        for sub in outer:
            self.visit(sub)
        kernel = node.name if node.name in self.symbols.kernels else self.ctx.kernel
        tensors = frozenset(a.arg for a in params if a.annotation and self._is_tensor_type(a.annotation))
        inner = _Context(id(node), node.name, kernel, node.name == "__init__", node.name == "forward", tensors)
        self.visit_in(node.body, inner)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in node.args.defaults:
            self.visit(default)
        self.visit_in([node.body], _Context(id(node), "<lambda>", self.ctx.kernel, False, False))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        methods = tuple(s.name for s in node.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef))
        self.facts.classes.append(ClassFact(node.name, tuple(node.bases), methods, self.where(node)))
        for sub in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(sub)
        self.visit_in(node.body, replace(self.ctx, forward=False))

    def visit_Try(self, node: ast.Try) -> None:
        guard = all(isinstance(s, ast.Import | ast.ImportFrom) for s in node.body)
        swallows_in_finally = any(isinstance(s, ast.Return | ast.Break | ast.Continue)
                                  for stmt in node.finalbody for s in ast.walk(stmt))
        self.facts.tries.append(TryFact(self.where(node), bool(node.handlers) or swallows_in_finally, guard))
        self.generic_visit(node)

    visit_TryStar = visit_Try

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        self.facts.global_decls.append(self.where(node))

    visit_Nonlocal = visit_Global

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.facts.imports.append(ImportFact(alias.name, (), self.where(node)))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        self.facts.imports.append(ImportFact(module, tuple(a.name for a in node.names), self.where(node)))

    # --- expressions ----------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        func, where, symbols = node.func, self.where(node), self.symbols
        name = symbols.canonical(func, self.ctx.scope)
        method = local = None
        plain = False
        if isinstance(func, ast.Subscript) or (isinstance(func, ast.Attribute) and func.attr == "run"
                                               and any(k.arg == "grid" for k in node.keywords)):
            self._launch(func.value, where)
        if name:
            if name == n.LOAD_INLINE:
                self._extension(node, where)
            elif is_custom_op(name):
                self.facts.extension_calls.append(where)
        elif isinstance(func, ast.Attribute):
            method, plain = func.attr, symbols.is_plain(self.ctx.scope, func.value)
            self.facts.attributes.append((func.attr, where))
            if symbols.holds_extension(func.value):
                self.facts.extension_calls.append(where)
            self.visit(func.value)
        else:
            if isinstance(func, ast.Name):
                local = func.id
                if self.ctx.kernel:
                    self.facts.kernel_calls.setdefault(self.ctx.kernel, set()).add(func.id)
            self.visit(func)
        self.facts.calls.append(CallFact(node, where, name, method, plain, symbols.layer_of(func), local))
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            kernels = symbols.kernels_in(arg)
            if kernels and self.ctx.kernel:  # a combine function (tl.reduce(x, 0, _combine)) runs in this kernel
                self.facts.kernel_calls.setdefault(self.ctx.kernel, set()).update(kernels)
            elif kernels:
                callee = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                self.facts.kernel_args.append((callee, kernels))
            self.visit(arg)

    def _launch(self, launched: ast.AST, where: Where) -> None:
        kernels = self.symbols.kernels_in(launched)
        self.facts.launches.append(LaunchFact(kernels, where))
        if not kernels and where.function:
            self.facts.generic_launchers.add(where.function)

    def _extension(self, node: ast.Call, where: Where) -> None:
        pieces: list[tuple[str, int]] = []
        for keyword, position in _SOURCE_ARGS.items():
            value = next((k.value for k in node.keywords if k.arg == keyword), None)
            if value is None and len(node.args) > position:
                value = node.args[position]
            if value is not None:
                pieces += self.symbols.string_pieces(value)
        self.facts.extensions.append(ExtensionFact(where, tuple(pieces)))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        where = self.where(node)
        self.facts.attributes.append((node.attr, where))
        if not isinstance(node.ctx, ast.Load) and (key := target_key(node)) and key.startswith("self."):
            self.facts.self_writes.append((key, where))  # never a module's attribute, even if aliased
            return
        name = self.symbols.canonical(node, self.ctx.scope)
        if name:
            self.facts.refs.append(RefFact(name, where, _ctx(node), self._role(node)))
            return
        self.visit(node.value)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            where = self.where(node)
            if (key := target_key(node.value)) and key.startswith("self."):
                self.facts.self_writes.append((key, where))
            elif name := self.symbols.canonical(node.value, self.ctx.scope):  # sys.modules[k] = m: into a module
                self.facts.refs.append(RefFact(name, where, _ctx(node), "other"))
                self.visit(node.slice)
                return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        where = self.where(node)
        name = self.symbols.canonical(node, self.ctx.scope)
        if name:
            if isinstance(node.ctx, ast.Load):
                self.facts.refs.append(RefFact(name, where, "load", self._role(node)))
        else:
            self.facts.bare_names.append((node.id, where))

    def visit_BinOp(self, node: ast.BinOp | ast.AugAssign) -> None:
        operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.target, node.value]
        if isinstance(node.op, ast.MatMult):
            self.facts.matmuls.append(self.where(node))
        else:
            self._tensor_operator(node.op, operands, node)
        self.generic_visit(node)

    visit_AugAssign = visit_BinOp

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        self._tensor_operator(node.op, [node.operand], node)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op, left, right in zip(node.ops, [node.left, *node.comparators], node.comparators, strict=False):
            self._tensor_operator(op, [left, right], node)
        self.generic_visit(node)

    def _tensor_operator(self, op: ast.AST, operands: list[ast.AST], node: ast.AST) -> None:
        symbol = _OPERATORS.get(type(op))
        if symbol and any(isinstance(o, ast.Name) and o.id in self.ctx.tensors for o in operands):
            self.facts.tensor_ops.append((symbol, self.where(node)))

    def _is_tensor_type(self, annotation: ast.AST) -> bool:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            return annotation.value in ("torch.Tensor", "Tensor")
        return self.symbols.canonical(annotation) == "torch.Tensor"

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):  # docstrings
            self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            self.facts.strings.append((node.value, self.where(node)))

    def _role(self, node: ast.AST) -> str:
        parent = self.parents.get(id(node))
        if isinstance(parent, ast.keyword | ast.Starred):
            parent = self.parents.get(id(parent))
            return "arg" if isinstance(parent, ast.Call) else "other"
        if isinstance(parent, ast.Call) and node is not parent.func:
            return "arg"
        if isinstance(parent, ast.Assign | ast.AnnAssign) and parent.value is node:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            return "alias" if all(target_key(t) for t in targets) else "other"
        return "other"


def _ctx(node: ast.Attribute | ast.Subscript) -> str:
    return {ast.Load: "load", ast.Store: "store", ast.Del: "del"}[type(node.ctx)]
