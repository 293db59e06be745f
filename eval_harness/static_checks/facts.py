"""What the fact pass records about a candidate; the rules read these and nothing else."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .symbols import Symbols


@dataclass(frozen=True)
class Where:
    line: int
    scope: int  # id of the innermost function (0: module or class level)
    function: str | None  # innermost enclosing def
    kernel: str | None  # the Triton kernel whose body this is in
    init: bool  # runs once, at import or construction: module / class level, or directly in __init__
    forward: bool  # directly in a method named forward


@dataclass(frozen=True)
class CallFact:
    node: ast.Call
    where: Where
    name: str | None  # canonical dotted name of the callee, when it resolves through imports
    method: str | None  # `m` in `receiver.m(...)`, for a receiver that resolves to no import
    plain_receiver: bool  # that receiver is certainly not a tensor (a list, a set, a logger)
    layer: bool | None  # calling an nn layer: whether it is vendor-heavy; None when not a layer
    local: str | None  # `f` in `f(...)` for a bare name that resolves to no import


@dataclass(frozen=True)
class RefFact:
    """A use of a name that resolves through imports, other than calling it."""

    name: str
    where: Where
    ctx: str  # "load", "store" (assigned, or an item of it assigned) or "del"
    role: str  # "arg" (passed to a call), "alias" (the whole right side of a re-binding) or "other"


@dataclass(frozen=True)
class ImportFact:
    module: str  # as written, with a leading dot per level for relative imports
    names: tuple[str, ...]  # names taken from it (`*` for a star import); empty for `import m`
    where: Where

    def dotted(self) -> list[str]:
        """The dotted names it brings in: `from a import b` brings `a.b`, `import a.b` brings `a.b`."""
        return [f"{self.module}.{name}" for name in self.names if name != "*"] or [self.module]


@dataclass(frozen=True)
class LaunchFact:
    kernels: frozenset[str]  # kernels the launched expression may hold; empty when unknown
    where: Where


@dataclass(frozen=True)
class ExtensionFact:
    where: Where
    sources: tuple[tuple[str, int], ...]  # (C++ or CUDA text, the line it starts on)


@dataclass(frozen=True)
class ClassFact:
    name: str
    bases: tuple[ast.expr, ...]
    methods: tuple[str, ...]
    where: Where


@dataclass(frozen=True)
class FunctionFact:
    name: str
    decorators: tuple[str, ...]  # canonical names
    where: Where  # of the def line, in the enclosing context


@dataclass(frozen=True)
class TryFact:
    where: Where
    handled: bool  # has an except clause (or a finally that returns / breaks, which swallows too)
    import_guard: bool  # body only imports, handlers only catch ImportError / ModuleNotFoundError


@dataclass
class Facts:
    symbols: Symbols
    imports: list[ImportFact] = field(default_factory=list)
    calls: list[CallFact] = field(default_factory=list)
    refs: list[RefFact] = field(default_factory=list)
    launches: list[LaunchFact] = field(default_factory=list)
    kernel_args: list[tuple[str | None, frozenset[str]]] = field(default_factory=list)  # (callee, kernels)
    generic_launchers: set[str] = field(default_factory=set)  # functions launching a kernel they receive
    kernel_calls: dict[str, set[str]] = field(default_factory=dict)  # kernel -> functions its body calls
    extensions: list[ExtensionFact] = field(default_factory=list)
    extension_calls: list[Where] = field(default_factory=list)
    classes: list[ClassFact] = field(default_factory=list)
    functions: list[FunctionFact] = field(default_factory=list)
    tries: list[TryFact] = field(default_factory=list)
    self_writes: list[tuple[str, Where]] = field(default_factory=list)  # ("self.x", where) assigned / mutated
    global_decls: list[Where] = field(default_factory=list)
    matmuls: list[Where] = field(default_factory=list)  # the `@` operator
    tensor_ops: list[tuple[str, Where]] = field(default_factory=list)  # operators on a parameter typed torch.Tensor
    bare_names: list[tuple[str, Where]] = field(default_factory=list)  # names resolving to no import
    attributes: list[tuple[str, Where]] = field(default_factory=list)  # every `.attr` accessed
    strings: list[tuple[str, Where]] = field(default_factory=list)  # string constants, docstrings aside
    source: str = ""  # the module's text: comments and characters the syntax tree does not keep

    def named_uses(self) -> list[tuple[str, Where, str]]:
        """(canonical name, where, ctx) for every call and other use of an imported name."""
        uses = [(c.name, c.where, "load") for c in self.calls if c.name]
        return uses + [(r.name, r.where, r.ctx) for r in self.refs]

    def imports_matching(self, predicate: Callable[[str], bool]) -> Iterator[tuple[str, Where]]:
        """The first dotted name of each import statement that satisfies `predicate`."""
        for imp in self.imports:
            name = next((name for name in imp.dotted() if predicate(name)), None)
            if name is not None:
                yield name, imp.where

    def model_class(self) -> ClassFact | None:
        return next((c for c in self.classes if c.name == "ModelNew"), None)
