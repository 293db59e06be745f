"""The symbol pass: what each name in a candidate stands for, before any rule looks at a use of it.

Python resolves module-level names when a function runs, so a helper may use an alias bound further
down the file; one pass over the whole module first makes every later lookup order-independent.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import names as n


def target_key(node: ast.AST) -> str | None:
    """`x` for a name, `self.x` for an attribute of self: the two bindings that aliases follow."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return f"self.{node.attr}"
    return None


def walk_scoped(tree: ast.AST) -> Iterator[tuple[ast.AST, int]]:
    """Every node with the id of the function whose body holds it (0 for module and class level)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, scope = stack.pop()
        yield node, scope
        inner = id(node) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) else scope
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


def decorator_names(func: ast.FunctionDef | ast.AsyncFunctionDef, symbols: Symbols) -> list[str]:
    resolved = []
    for dec in func.decorator_list:
        name = symbols.canonical(dec.func if isinstance(dec, ast.Call) else dec)
        if name:
            resolved.append(name)
    return resolved


@dataclass
class Symbols:
    aliases: dict[str, str] = field(default_factory=dict)  # local name or self.attr -> canonical name
    kernels: dict[str, ast.FunctionDef] = field(default_factory=dict)  # triton-decorated functions
    kernel_aliases: dict[str, frozenset[str]] = field(default_factory=dict)  # binding -> kernels it may hold
    layers: dict[str, bool] = field(default_factory=dict)  # binding holding an nn layer -> vendor-heavy?
    layer_classes: dict[str, bool] = field(default_factory=dict)  # local classes deriving from an nn layer
    extension_holders: set[str] = field(default_factory=set)  # bindings holding a load_inline module
    extension_factories: set[str] = field(default_factory=set)  # functions returning one
    strings: dict[str, list[ast.AST]] = field(default_factory=lambda: defaultdict(list))
    defined: set[str] = field(default_factory=set)  # names the module binds itself (they shadow builtins)
    classes: set[str] = field(default_factory=set)  # classes the module defines (their methods are not Tensor's)
    shadowed: set[tuple[int, str]] = field(default_factory=set)  # (function, name) bound locally, not as an alias
    plain: set[tuple[int, str]] = field(default_factory=set)  # (scope, binding) holding Python objects only
    not_plain: set[tuple[int, str]] = field(default_factory=set)

    # --- resolution ----------------------------------------------------------------------------

    def canonical(self, node: ast.AST, scope: int = 0) -> str | None:
        """The dotted name an expression denotes (`F.relu` -> torch.nn.functional.relu), or None.

        `scope` is the function the expression is in: a local `F = x.shape[1]` hides the module's `F`.
        """
        if isinstance(node, ast.Name) and (scope, node.id) in self.shadowed:
            return None
        key = target_key(node)
        if key is not None and key in self.aliases:
            return self.aliases[key]
        if isinstance(node, ast.Attribute):
            base = self.canonical(node.value, scope)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call) and node.args:
            if self.is_builtin(node.func, "getattr") and len(node.args) >= 2:
                attr = node.args[1]
                base = self.canonical(node.args[0], scope)
                if base and isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                    return f"{base}.{attr.value}"
            elif self.canonical(node.func, scope) == "functools.partial":
                return self.canonical(node.args[0], scope)
        return None

    def is_builtin(self, node: ast.AST, name: str) -> bool:
        return isinstance(node, ast.Name) and node.id == name and name not in self.defined

    def kernels_in(self, node: ast.AST) -> frozenset[str]:
        """Kernels an expression may evaluate to: names, aliases, and wrappers such as autotune(k)."""
        found: set[str] = set()
        for sub in ast.walk(node):
            key = target_key(sub)
            if key in self.kernels:
                found.add(key)
            elif key in self.kernel_aliases:
                found |= self.kernel_aliases[key]
        return frozenset(found)

    def holds_extension(self, value: ast.AST) -> bool:
        """load_inline(...), a binding of its result, or a call of a function that returns one."""
        if target_key(value) in self.extension_holders:
            return True
        if not isinstance(value, ast.Call):
            return False
        if self.canonical(value.func) == n.LOAD_INLINE:
            return True
        func = value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        return name in self.extension_factories

    def layer_of(self, node: ast.AST) -> bool | None:
        """Whether calling `node` runs an nn layer: None if not a layer, else whether it is vendor-heavy."""
        key = target_key(node)
        if key is not None:
            return self.layers.get(key)
        if isinstance(node, ast.Subscript):
            return self.layer_of(node.value)
        if isinstance(node, ast.Attribute) and node.attr in n.LAYER_FORWARD_METHODS:
            return self.layer_of(node.value)
        if isinstance(node, ast.Call):
            return self.layer_constructor(node)
        return None

    def layer_constructor(self, call: ast.Call) -> bool | None:
        """For a call that builds an nn layer, whether the layer is vendor-heavy; None for other calls."""
        kind = self.layer_class(call.func)
        if kind is not None and (self.canonical(call.func) or "").rsplit(".", 1)[-1] in n.NN_CONTAINERS:
            return self.all_vendor(elements(call))
        return kind

    def layer_class(self, node: ast.AST) -> bool | None:
        """For an expression naming an nn layer class, whether it is vendor-heavy; None otherwise."""
        if isinstance(node, ast.Name) and node.id in self.layer_classes:
            return self.layer_classes[node.id]
        name = self.canonical(node) or ""
        last = name.rsplit(".", 1)[-1]
        if not name.startswith("torch.nn.") or not last[:1].isupper() or last in n.NN_NON_LAYERS:
            return None
        if name.startswith(("torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.nn.parameter")):
            return None
        return last in n.NN_VENDOR_LAYERS

    def all_vendor(self, items: list[ast.AST]) -> bool:
        return bool(items) and all(isinstance(e, ast.Call) and self.layer_constructor(e) for e in items)

    def string_pieces(self, node: ast.AST, depth: int = 0) -> list[tuple[str, int]]:
        """The literal text an expression builds (constants, names bound to them, +, lists), with lines."""
        if depth > 8:
            return []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [(node.value, node.lineno)]
        if isinstance(node, ast.Name):
            return [p for bound in self.strings.get(node.id, []) for p in self.string_pieces(bound, depth + 1)]
        if isinstance(node, ast.List | ast.Tuple):
            return [p for elt in node.elts for p in self.string_pieces(elt, depth + 1)]
        if isinstance(node, ast.JoinedStr):
            return [p for value in node.values for p in self.string_pieces(value, depth + 1)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.string_pieces(node.left, depth + 1) + self.string_pieces(node.right, depth + 1)
        if isinstance(node, ast.Call) and node.args:  # textwrap.dedent(SRC), str(SRC)
            return self.string_pieces(node.args[0], depth + 1)
        return []

    def is_plain(self, scope: int, node: ast.AST) -> bool:
        """Whether `node` certainly holds a plain Python object (list, set, logger), never a tensor."""
        if isinstance(node, ast.List | ast.Set | ast.Dict | ast.Constant | ast.JoinedStr | ast.ListComp
                      | ast.SetComp | ast.DictComp):
            return True
        if isinstance(node, ast.Name) and node.id in self.classes:
            return True
        key = target_key(node)
        if key is None:
            return False
        where = (0 if key.startswith("self.") else scope, key)
        if where not in self.plain and where not in self.not_plain:
            where = (0, key)  # not bound in this function: a module-level binding, if any
        return where in self.plain and where not in self.not_plain


def elements(call: ast.Call) -> list[ast.AST]:
    found: list[ast.AST] = []
    for arg in call.args:
        if isinstance(arg, ast.List | ast.Tuple):
            found.extend(arg.elts)
        elif isinstance(arg, ast.Dict):
            found.extend(v for v in arg.values if v is not None)
        elif isinstance(arg, ast.Starred):
            return []  # Sequential(*layers): the layers are not visible here
        else:
            found.append(arg)
    return found
