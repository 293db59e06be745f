"""Rules about how the candidate is built: the reference, fallbacks, tensor subclasses, state."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Severity
from . import names as n
from .classify import Category, classify
from .facts import Facts
from .registry import CheckContext, Hit, rule
from .symbols import target_key

# Methods that change a container or tensor held on self (in-place tensor methods end in `_`).
_MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault", "add", "pop", "clear", "__setitem__"})
_MEMOIZERS = frozenset({"functools.lru_cache", "functools.cache", "functools.cached_property"})


def _reference_module(module: str) -> bool:
    root = module.split(".")[0]
    return module.startswith(".") or root in n.REFERENCE_MODULE_ROOTS or root.startswith(n.REFERENCE_MODULE_PREFIX)


@rule("calls_reference_model", Severity.ERROR)
def calls_reference_model(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Reaching the reference `Model`: constructing, subclassing or calling it, or importing the problem module.

    A candidate that runs the reference is the reference, timed against itself.
    """
    ref = n.REFERENCE_NAME
    why = f"the name `{ref}` is the reference model's; ModelNew must not construct, subclass or call it"
    for cls in facts.classes:
        if cls.name == ref:
            yield Hit(cls.where.line, f"defines a class `{ref}`: {why}")
    for name, where in facts.bare_names:
        if name == ref:
            yield Hit(where.line, f"uses `{ref}`: {why}")
    for attr, where in facts.attributes:
        if attr == ref:
            yield Hit(where.line, f"reads an attribute `.{ref}`: {why}")
    for text, where in facts.strings:
        if text == ref:
            yield Hit(where.line, f"names `{ref}` in a string (getattr / globals lookup): {why}")
    for imp in facts.imports:
        if _reference_module(imp.module) or ref in imp.names:
            yield Hit(imp.where.line, f"imports `{imp.module}`: a candidate is one self-contained module and must "
                                      "not import the problem, the reference or the harness")


@rule("try_fallback", Severity.ERROR)
def try_fallback(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """try/except (or contextlib.suppress) around the candidate's work: a fallback that hides kernel failures.

    The classic hack: the kernel fails to compile or crashes, the except branch runs PyTorch, the
    result is correct and the candidate is credited. Only a module-level `try: import ...` is exempt.
    """
    for t in facts.tries:
        if t.handled and not (t.where.function is None and t.import_guard):
            where = "inside a function" if t.where.function else "at module level around more than imports"
            yield Hit(t.where.line, f"try/except {where}: a fallback hides kernel failures; let errors propagate")
    for name, where, _ in facts.named_uses():
        if name == "contextlib.suppress":
            yield Hit(where.line, "`contextlib.suppress` swallows errors like try/except; let errors propagate")


def _tensor_classes(facts: Facts) -> set[str]:
    found: set[str] = set()
    for _ in range(3):  # classes deriving from classes that derive from torch.Tensor
        for cls in facts.classes:
            bases = {facts.symbols.canonical(b) or getattr(b, "id", "") for b in cls.bases}
            if bases & n.TENSOR_BASES or bases & found:
                found.add(cls.name)
    return found


@rule("tensor_subclass", Severity.ERROR)
def tensor_subclass(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """torch.Tensor subclasses, `__torch_function__` / `__torch_dispatch__`, dispatch modes, `as_subclass`.

    A subclass can answer the harness's comparisons with anything it likes, and a dispatch mode can
    intercept the reference's own operators.
    """
    why = "tensor subclasses and dispatch hooks can fake results or intercept PyTorch ops; return plain tensors"
    subclasses = _tensor_classes(facts)
    for cls in facts.classes:
        if cls.name in subclasses:
            yield Hit(cls.where.line, f"class `{cls.name}` derives from torch.Tensor: {why}")
    for func in facts.functions:
        if func.name in n.SUBCLASS_HOOKS:
            yield Hit(func.where.line, f"defines `{func.name}`: {why}")
    for name, where in facts.bare_names:
        if name in n.SUBCLASS_HOOKS:
            yield Hit(where.line, f"binds `{name}`: {why}")
    for name, where in facts.imports_matching(lambda name: classify(name) is Category.SUBCLASS):
        yield Hit(where.line, f"imports `{name}`: {why}")
    for name, where, _ in facts.named_uses():
        if classify(name) is Category.SUBCLASS and not where.kernel:
            yield Hit(where.line, f"uses `{name}`: {why}")
    for call in facts.calls:
        if call.method in n.SUBCLASS_METHODS:
            yield Hit(call.where.line, f"calls `.{call.method}()`: {why}")


@rule("stateful_forward", Severity.WARNING)
def stateful_forward(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """State written during forward (self attributes, globals, memoised functions): results may be reused.

    A forward that caches its output answers later calls without computing; the dynamic fresh-input
    check decides whether this one does. A cache of a compiled extension or a launch config is fine.
    """
    for key, where in facts.self_writes:
        if where.forward:
            yield Hit(where.line, f"forward assigns `{key}`: state kept across calls may replay stale results")
    for call in facts.calls:
        key = target_key(call.node.func.value) if call.method else None  # type: ignore[attr-defined]
        in_place = call.method in _MUTATORS or ((call.method or "").endswith("_") and not call.method.endswith("__"))
        if call.where.forward and key and key.startswith("self.") and in_place:
            yield Hit(call.where.line, f"forward mutates `{key}` with `.{call.method}()`: state kept across calls")
    for where in facts.global_decls:
        if where.forward:
            yield Hit(where.line, "forward declares a global / nonlocal: module state kept across calls")
    for func in facts.functions:
        if memo := set(func.decorators) & _MEMOIZERS:
            yield Hit(func.where.line, f"`{func.name}` is memoised with `{min(memo)}`: fine for an extension or a "
                                       "config, never for tensor results")

