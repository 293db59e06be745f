"""A candidate's label read from its source: the language, its kernels, and the launch settings it fixes.

A plan names what was asked ("wide blocks with autotuning"); the coder, a model or the offline engine,
may write something else. What a reviewer reads beside a candidate is what its code does.
"""

from __future__ import annotations

import ast

_LAUNCH_SETTINGS = ("num_warps", "num_stages")


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return node.id if isinstance(node, ast.Name) else ""


def _constants(tree: ast.Module) -> dict[str, object]:
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant)}


def _value(node: ast.expr, constants: dict[str, object]) -> object | None:
    if isinstance(node, ast.Constant):
        return node.value
    return constants.get(node.id) if isinstance(node, ast.Name) else None


def _fixed_settings(tree: ast.Module, kernels: set[str]) -> list[str]:
    """`NAME=value` for each constant keyword a kernel launch (`kernel[grid](...)`) passes: block sizes, warps."""
    constants = _constants(tree)
    settings: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript)
                and _dotted(node.func.value) in kernels):
            continue
        for keyword in node.keywords:
            value = _value(keyword.value, constants) if keyword.arg else None
            if isinstance(value, int) and not isinstance(value, bool) and (
                    keyword.arg in _LAUNCH_SETTINGS or keyword.arg.isupper()):
                settings.setdefault(keyword.arg, set()).add(str(value))
    return [f"{name}={'/'.join(sorted(values, key=int))}" for name, values in settings.items()]


def describe_source(source: str) -> str:
    """e.g. "triton: 1 kernel, BLOCK=2048, num_warps=2" or "cuda through load_inline"."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "does not parse"
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    kernels = {f.name for f in functions if any(_dotted(d).endswith("jit") for d in f.decorator_list)}
    autotuned = [d for f in functions for d in f.decorator_list if _dotted(d).endswith("autotune")]
    calls = {_dotted(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    if any(call.endswith("load_inline") for call in calls):
        return "cuda through load_inline"
    if not kernels:
        return "pytorch only: no custom kernel"
    parts = [f"triton: {len(kernels)} kernel{'s' if len(kernels) > 1 else ''}"]
    if autotuned:
        parts.append("autotuned")
    parts += _fixed_settings(tree, kernels)
    return ", ".join(parts)
