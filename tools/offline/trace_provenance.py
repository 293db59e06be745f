"""Which constants in a traced graph come from model attributes, and which attributes shape the graph itself.

torch.fx bakes every Python number into the graph: `x * self.scale` holds the traced value of `self.scale`.
Each attribute is perturbed and the model re-traced; a constant that moves with it, by a derivation found here
(`math.log(self.group)`, `1.0 / self.r`), is re-expressed as that attribute and read at run time. An attribute
that changes the traced steps (`range(self.steps)`, `if self.residual`, `self.activation == "gelu"`), or moves
constants in a way no derivation explains, or moves a constant that another attribute moves too, is listed as
kept at the traced value: the design says so, and the harness's other configurations check it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn

Key = tuple[str | int, ...]  # (node, flat argument position, places in nested lists and tuples)

_SCALARS = (int, float)


def _scalar_attributes(model: nn.Module) -> dict[str, Any]:
    """Numeric attributes of every module; flags, names and lists of numbers of the reference's own modules (a
    torch.nn module's are read where its call is lowered)."""
    found: dict[str, Any] = {}
    for prefix, module in model.named_modules():
        own = not type(module).__module__.startswith("torch.")
        for key, value in vars(module).items():
            numeric = isinstance(value, _SCALARS) and not isinstance(value, bool)
            setting = isinstance(value, bool | str) or (isinstance(value, list | tuple) and value
                                                        and all(isinstance(v, _SCALARS) for v in value))
            if key.startswith("_") or key == "training" or not (numeric or (own and setting)):
                continue
            found[f"{prefix}.{key}" if prefix else key] = value
    return found


def _set_path(model: nn.Module, path: str, value: Any) -> None:
    *owners, key = path.split(".")
    target = model
    for owner in owners:
        target = getattr(target, owner)
    setattr(target, key, value)


def _perturbed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value + "_other"
    if isinstance(value, list | tuple):
        return type(value)(_perturbed(item) for item in value)
    return value + 7 if isinstance(value, int) else value * 1.37 + 0.0123


def _structure(graph: torch.fx.Graph) -> list[tuple[str, str]]:
    return [(node.op, str(node.target)) for node in graph.nodes]


def _constants(graph: torch.fx.Graph) -> dict[Key, Any]:
    """Every plain numeric constant, keyed by (node, flat argument position, places in nested lists and tuples):
    `x.unflatten(1, (self.groups, -1))` holds self.groups at (node, 2, 0)."""
    found: dict[Key, Any] = {}

    def collect(arg: Any, key: Key) -> None:
        if isinstance(arg, list | tuple):
            for place, item in enumerate(arg):
                collect(item, (*key, place))
        elif isinstance(arg, _SCALARS) and not isinstance(arg, bool):
            found[key] = arg

    for node in graph.nodes:
        for position, arg in enumerate([*node.args, *node.kwargs.values()]):
            collect(arg, (node.name, position))
    return found


# How a constant may have been computed from an attribute at trace time (`math.log(self.group)`).
_DERIVATIONS: dict[str, Any] = {
    "{0}": lambda x: x, "1.0 / {0}": lambda x: 1.0 / x, "math.log({0})": math.log, "math.sqrt({0})": math.sqrt,
    "1.0 / math.sqrt({0})": lambda x: 1.0 / math.sqrt(x), "{0} * {0}": lambda x: x * x,
}


def _derivation(value: Any, moved_value: Any, old: Any, new: Any) -> str | None:
    """`a * f({0})` with f from _DERIVATIONS that maps both attribute values to both constants, if any."""
    for pattern, f in _DERIVATIONS.items():
        try:
            base = f(value)
            scale = old / base
            if math.isclose(scale * f(moved_value), new, rel_tol=1e-9, abs_tol=1e-12):
                return pattern if math.isclose(scale, 1.0) else f"{scale!r} * {pattern}"
        except (ValueError, ZeroDivisionError, TypeError):
            continue
    return None


def _whole_sequences(value: Any, base: dict[Key, Any], moved: dict[Key, Any]) -> list[Key] | None:
    """Where a list or tuple attribute (`self.size = (7, 9)`) stands whole as an argument, if every constant it
    moved is one of its items in such a place; None otherwise (a flag, or numbers taken apart or computed on)."""
    changed = {key for key in base.keys() | moved.keys() if base.get(key) != moved.get(key)}
    if not isinstance(value, list | tuple) or not changed:
        return None if changed else []
    perturbed = _perturbed(value)
    places = {key[:-1] for key in changed}
    for place in places:
        items = {key[-1]: old for key, old in base.items() if key[:-1] == place}
        if items != dict(enumerate(value)) or any(moved.get((*place, i)) != v for i, v in enumerate(perturbed)):
            return None
    return sorted(places, key=str)


def provenance(model: nn.Module, graph: torch.fx.Graph, retrace: Callable[[nn.Module], torch.fx.Graph]
               ) -> tuple[dict[Key, tuple[str, str]], list[str]]:
    """Constants that come from attributes: key -> (attribute path, how it was computed from it). An attribute
    whose value changes the traced steps (`range(self.steps)`, `if self.residual`), or constants in a way no
    derivation explains, is listed as kept at the traced value."""
    base, structure = _constants(graph), _structure(graph)
    attributes: dict[Key, tuple[str, str]] = {}
    movers: dict[Key, list[str]] = {}  # the attributes that moved each constant
    derived: list[str] = []
    for path, value in _scalar_attributes(model).items():
        _set_path(model, path, _perturbed(value))
        try:
            perturbed = retrace(model)
            moved = _constants(perturbed)
        except Exception:  # a trace that breaks under another value: the attribute shapes control flow
            perturbed, moved = None, base
        finally:
            _set_path(model, path, value)
        if perturbed is None or _structure(perturbed) != structure:
            derived.append(f"the forward's steps depend on {path} (a loop count or a branch)")
            continue
        if not isinstance(value, _SCALARS) or isinstance(value, bool):
            whole = _whole_sequences(value, base, moved)
            if whole is None:
                derived.append(f"constants depend on {path}")
            attributes |= {key: (path, "{0}") for key in whole or ()}
            continue
        for key, old in base.items():
            new = moved.get(key, old)
            if new == old:
                continue
            how = _derivation(value, _perturbed(value), old, new)
            if how is not None and key not in movers:
                attributes[key] = (path, how)
            else:  # no derivation, or a second attribute moves it too (`self.alpha / self.r`): kept as traced
                attributes.pop(key, None)
                derived.append(f"{key[0]} depends on {' and '.join([*movers.get(key, []), path])}")
            movers.setdefault(key, []).append(path)
    return attributes, derived
