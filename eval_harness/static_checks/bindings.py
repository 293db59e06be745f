"""Fills a `Symbols` table from a module's AST: imports, re-bindings, kernels, layers, extensions."""

from __future__ import annotations

import ast

from . import names as n
from .symbols import Symbols, elements, target_key, walk_scoped

_FUNCTIONS = ast.FunctionDef | ast.AsyncFunctionDef
_LOOPS = ast.For | ast.AsyncFor | ast.comprehension
_CONTAINER_ADDERS = frozenset({"append", "extend", "insert", "add_module", "update"})
_PLAIN_VALUES = (ast.List, ast.Set, ast.Dict, ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp, ast.Constant,
                 ast.JoinedStr)
# Fixed-point rounds: enough for an alias of an alias of an alias; real candidates need one or two.
_ROUNDS = 3


def collect_symbols(tree: ast.Module) -> Symbols:
    symbols = Symbols()
    scoped = list(walk_scoped(tree))
    nodes = [node for node, _ in scoped]
    _imports(symbols, nodes)
    _defined(symbols, nodes)
    assignments = [(key, value) for node in nodes for key, value in _bindings(node)]
    direct = [(key, value) for node in nodes if not isinstance(node, _LOOPS) for key, value in _bindings(node)]
    for _ in range(_ROUNDS):
        for key, value in direct:
            name = symbols.canonical(value)
            if name and name != key:
                symbols.aliases[key] = name
    _shadowed(symbols, scoped)
    _kernels(symbols, nodes, assignments)
    _layers(symbols, nodes, assignments)
    _extensions(symbols, nodes, direct)
    for key, value in direct:
        if not key.startswith("self."):
            symbols.strings[key].append(value)
    _plain(symbols, scoped)
    return symbols


def _bindings(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """(binding, value) for `x = v`, `self.x = v`, `x: T = v`, `x += v`, and `for x in v` (value: v)."""
    if isinstance(node, ast.Assign):
        return [(key, node.value) for t in node.targets if (key := target_key(t))]
    if isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
        key = target_key(node.target)
        return [(key, node.value)] if key else []
    if isinstance(node, _LOOPS):
        key = target_key(node.target)
        return [(key, node.iter)] if key else []
    return []


def _imports(symbols: Symbols, nodes: list[ast.AST]) -> None:
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    symbols.aliases[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    symbols.aliases[root] = root
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name != "*":
                    symbols.aliases[alias.asname or alias.name] = f"{module}.{alias.name}".lstrip(".")


def _defined(symbols: Symbols, nodes: list[ast.AST]) -> None:
    for node in nodes:
        if isinstance(node, ast.ClassDef):
            symbols.classes.add(node.name)
        if isinstance(node, _FUNCTIONS | ast.ClassDef):
            symbols.defined.add(node.name)
            symbols.aliases.pop(node.name, None)  # a local def shadows an import of the same name
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            symbols.defined.add(node.id)
        elif isinstance(node, ast.arg):
            symbols.defined.add(node.arg)


def _shadowed(symbols: Symbols, scoped: list[tuple[ast.AST, int]]) -> None:
    """Names a function binds to something other than an alias (parameters, `F = x.shape[1]`)."""
    alias_targets = {id(t) for node, _ in scoped if isinstance(node, ast.Assign) and symbols.canonical(node.value)
                     for t in node.targets}
    for node, scope in scoped:
        if scope and isinstance(node, ast.arg):
            symbols.shadowed.add((scope, node.arg))
        stored = isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)
        if scope and stored and id(node) not in alias_targets:
            symbols.shadowed.add((scope, node.id))  # type: ignore[attr-defined]


def _kernels(symbols: Symbols, nodes: list[ast.AST], assignments: list[tuple[str, ast.AST]]) -> None:
    functions = {node.name: node for node in nodes if isinstance(node, _FUNCTIONS)}
    for node in functions.values():
        for dec in node.decorator_list:
            if symbols.canonical(dec.func if isinstance(dec, ast.Call) else dec) in n.KERNEL_DECORATORS:
                symbols.kernels[node.name] = node
    for node in nodes:  # triton.jit(f), triton.autotune(...)(f): f's body is kernel code
        if isinstance(node, ast.Call) and _is_kernel_wrapper(symbols, node.func):
            for arg in node.args:
                if isinstance(arg, ast.Name) and arg.id in functions:
                    symbols.kernels[arg.id] = functions[arg.id]
    for _ in range(_ROUNDS):
        for key, value in assignments:
            found = symbols.kernels_in(value) - {key}
            if found and key not in symbols.kernels:
                symbols.kernel_aliases[key] = symbols.kernel_aliases.get(key, frozenset()) | found


def _is_kernel_wrapper(symbols: Symbols, func: ast.AST) -> bool:
    if isinstance(func, ast.Call):
        return _is_kernel_wrapper(symbols, func.func)
    return symbols.canonical(func) in n.KERNEL_DECORATORS


def _layers(symbols: Symbols, nodes: list[ast.AST], assignments: list[tuple[str, ast.AST]]) -> None:
    classes = [node for node in nodes if isinstance(node, ast.ClassDef)]
    for _ in range(_ROUNDS):
        for cls in classes:
            kinds = [k for base in cls.bases if (k := symbols.layer_class(base)) is not None]
            if kinds:
                symbols.layer_classes[cls.name] = all(kinds)
    contents: dict[str, list[ast.AST]] = {}  # container binding -> every layer put into it
    for key, value in assignments:
        if isinstance(value, ast.Call) and (symbols.canonical(value.func) or "").rsplit(".", 1)[-1] in n.NN_CONTAINERS:
            contents.setdefault(key, []).extend(elements(value))
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _CONTAINER_ADDERS:
            key = target_key(node.func.value)
            if key in contents:
                contents[key].extend(elements(node))
    for _ in range(_ROUNDS):
        for key, value in assignments:
            if key in contents:
                symbols.layers[key] = symbols.all_vendor(contents[key])
            elif (kind := symbols.layer_of(_iterated(value))) is not None:
                symbols.layers[key] = kind


def _iterated(node: ast.AST) -> ast.AST:
    """What a loop over `node` walks: enumerate(xs), reversed(xs), xs.values(), xs.children() -> xs."""
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in ("enumerate", "reversed", "zip", "list") and node.args:
            return _iterated(node.args[0])
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("values", "children", "modules"):
            return node.func.value
    return node


def _extensions(symbols: Symbols, nodes: list[ast.AST], assignments: list[tuple[str, ast.AST]]) -> None:
    functions = [node for node in nodes if isinstance(node, _FUNCTIONS)]
    for _ in range(_ROUNDS):
        for key, value in assignments:
            if symbols.holds_extension(value):
                symbols.extension_holders.add(key)
        for func in functions:
            for sub in ast.walk(func):
                if isinstance(sub, ast.Return) and sub.value is not None and symbols.holds_extension(sub.value):
                    symbols.extension_factories.add(func.name)


def _plain(symbols: Symbols, scoped: list[tuple[ast.AST, int]]) -> None:
    for node, scope in scoped:
        if isinstance(node, ast.arg):
            symbols.not_plain.add((scope, node.arg))  # walk_scoped gives an argument its function's scope
            continue
        for key, value in _bindings(node):
            where = (0 if key.startswith("self.") else scope, key)
            plain = not isinstance(node, _LOOPS) and _is_plain_value(symbols, value)
            (symbols.plain if plain else symbols.not_plain).add(where)
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Tuple | ast.List):  # unpacking: nothing known about the parts
                for elt in target.elts:
                    if key := target_key(elt):
                        symbols.not_plain.add((0 if key.startswith("self.") else scope, key))


def _is_plain_value(symbols: Symbols, value: ast.AST) -> bool:
    if isinstance(value, _PLAIN_VALUES):
        return True
    if not isinstance(value, ast.Call):
        return False
    if isinstance(value.func, ast.Name) and value.func.id in n.PLAIN_CONSTRUCTORS:
        return value.func.id not in symbols.defined
    name = symbols.canonical(value.func)
    return name is not None and name.split(".")[0] not in n.TENSOR_LIBRARIES
