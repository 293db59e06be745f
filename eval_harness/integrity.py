"""Detects a candidate that replaced a function the harness relies on (timers, comparisons, torch).

The worker snapshots the identity of every attribute of the modules and classes below before any
candidate runs, and checks after each candidate that none was replaced. New attributes are fine
(torch loads submodules lazily); a replaced one means the verdict can no longer be trusted, so the
evaluation fails and the worker is replaced before it evaluates anything else.
"""

from __future__ import annotations

import inspect
import sys
import time
from types import ModuleType

import torch

_GUARDED_EXTERNAL: dict[str, object] = {
    "torch": torch,
    "torch.Tensor": torch.Tensor,
    "torch.nn.Module": torch.nn.Module,
    "torch.cuda": torch.cuda,
    "torch.cuda.Event": torch.cuda.Event,
    "torch.random": torch.random,
    "torch.testing": torch.testing,
    "time": time,
}


def _guarded_owners() -> dict[str, object]:
    owners = dict(_GUARDED_EXTERNAL)
    for name, module in list(sys.modules.items()):
        if name.startswith("kevolve.eval_harness") and isinstance(module, ModuleType):
            owners[name] = module
    return owners


def _is_behaviour(value: object) -> bool:
    """Functions, classes and descriptors; plain data (flags, counters, caches) changes legitimately."""
    return callable(value) or isinstance(value, property | staticmethod | classmethod)


def _attributes(owner: object) -> dict[str, object]:
    """A module's own attributes; for a class, every attribute it resolves, inherited ones too,
    since assigning `torch.Tensor.__eq__` shadows the inherited one without replacing any key."""
    if isinstance(owner, type):
        return {name: inspect.getattr_static(owner, name, _MISSING) for name in dir(owner)}
    return dict(vars(owner))


class IntegritySnapshot:
    def __init__(self) -> None:
        self._owners = _guarded_owners()
        self._held: dict[tuple[str, str], object] = {
            (owner_name, attribute): value
            for owner_name, owner in self._owners.items()
            for attribute, value in _attributes(owner).items()
            if _is_behaviour(value)
        }

    def replaced(self) -> list[str]:
        """Names of guarded attributes that no longer hold the object they held at the snapshot."""
        current = {name: _attributes(owner) for name, owner in self._owners.items()}
        return [
            f"{owner_name}.{attribute}"
            for (owner_name, attribute), value in self._held.items()
            if current[owner_name].get(attribute, _MISSING) is not value
        ]


_MISSING = object()
