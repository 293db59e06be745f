"""The registry of named checks: each rule is a function over `Facts`, registered with its default severity.

A rule's docstring says which exploit it stops; `RULES[name].description` carries it to reports.
Which rules run, and how severe each is, is the presets' business (presets.py), not the rule's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..precision import MathMode
from ..results import Severity
from .facts import Facts


@dataclass(frozen=True)
class Hit:
    line: int
    reason: str


@dataclass(frozen=True)
class CheckContext:
    math: MathMode  # the regime: a candidate may not compute below it
    allow_vendor_heavy: bool  # hybrid: GEMM / convolution may stay with cuBLAS / cuDNN


Check = Callable[[Facts, CheckContext], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity  # default; a preset may choose another
    description: str  # the exploit it stops
    check: Check


RULES: dict[str, Rule] = {}


def rule(name: str, severity: Severity) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if name in RULES:
            raise ValueError(f"rule {name!r} is registered twice")
        RULES[name] = Rule(name, severity, inspect.cleandoc(check.__doc__ or ""), check)
        return check

    return register
