"""The catalogue of general kernel strategies, and which of them fit a task's operators.

The planner explores the catalogue when the tree gives it nothing better to do; the analyst uses the
same operator keywords to word its knowledge-base query. Both read the reference, never run it.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from importlib.resources import files

import yaml
from pydantic import BaseModel, ConfigDict, Field

from kevolve.tools.candidates import KernelLanguage

ANY_FAMILY = "any"

# Calls that move or describe data rather than compute: they say nothing about the operator.
_NOT_OPERATORS = frozenset({
    "super", "__init__", "view", "reshape", "size", "shape", "contiguous", "permute", "transpose", "flatten",
    "unsqueeze", "squeeze", "expand", "to", "float", "half", "randn", "rand", "zeros", "ones", "empty",
    "tensor", "parameter", "register_buffer", "register_parameter", "range", "len", "int", "getattr", "isinstance",
    "tuple", "list", "no_grad", "copy_", "clone", "detach", "item", "cat", "stack", "fill_", "zero_",
})

# A keyword belongs to a family when it matches the family's pattern; one keyword may match several.
_FAMILY_PATTERNS: dict[str, re.Pattern[str]] = {
    "matmul": re.compile(r"^(matmul|mm|bmm|addmm|baddbmm|einsum|mv|dot)$|^linear"),
    "conv": re.compile(r"conv"),
    "attention": re.compile(r"attention|sdpa"),
    "softmax": re.compile(r"softmax|softmin"),
    "norm": re.compile(r"norm"),
    "scan": re.compile(r"^cum|cumsumexp"),
    "pool": re.compile(r"pool"),
    "loss": re.compile(r"loss|cross_entropy|kl_div|nll"),
    "reduction": re.compile(r"^(sum|mean|amax|amin|max|min|argmax|argmin|prod|logsumexp|var|std)$"),
    "elementwise": re.compile(
        r"^(relu|gelu|silu|sigmoid|tanh|exp|log|mish|softplus|hardtanh|leaky_relu|elu|clamp|abs|sqrt|rsqrt|mul|add|"
        r"sub|div|pow|where|softsign|hardswish)$"
    ),
}


class Strategy(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    applies_to: list[str] = Field(description="operator families, or 'any'")
    language: KernelLanguage = KernelLanguage.TRITON

    def fits(self, families: set[str]) -> bool:
        """An unclassified task (no family recognised) could be anything, so every strategy fits it."""
        return not families or ANY_FAMILY in self.applies_to or bool(families.intersection(self.applies_to))


@cache
def catalogue() -> tuple[Strategy, ...]:
    text = (files("kevolve.agents") / "strategies.yaml").read_text(encoding="utf-8")
    return tuple(Strategy.model_validate(entry) for entry in yaml.safe_load(text))


def _model_class(tree: ast.Module) -> ast.AST:
    return next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"), tree)


def _calls_own_attribute(call: ast.Call) -> bool:
    """`self.conv1(x)`: the name is the author's, the operator is the layer's class, seen in __init__."""
    func = call.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"


def operator_keywords(reference_source: str) -> list[str]:
    """The compute calls of the reference's `Model` (gelu, matmul, conv2d, ...), in order of appearance."""
    try:
        tree = ast.parse(reference_source)
    except SyntaxError:
        return []
    found: dict[str, None] = {}
    for node in ast.walk(_model_class(tree)):
        if isinstance(node, ast.Call) and not _calls_own_attribute(node):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name and not name.startswith("_") and name.lower() not in _NOT_OPERATORS:
                found.setdefault(name.lower())
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.setdefault("matmul")
    return list(found)


def _declared_category(reference_source: str) -> str | None:
    """kevolve's problems name their family in a plain literal, KEVOLVE_CATEGORY (see eval_harness.problems)."""
    try:
        tree = ast.parse(reference_source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "KEVOLVE_CATEGORY" for t in node.targets):
            value = node.value
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    return None


def operator_families(reference_source: str) -> set[str]:
    families = {f for f, pattern in _FAMILY_PATTERNS.items() for k in operator_keywords(reference_source)
                if pattern.search(k)}
    declared = _declared_category(reference_source)
    return families | {declared} if declared else families


def strategies_for(reference_source: str) -> list[Strategy]:
    families = operator_families(reference_source)
    return [strategy for strategy in catalogue() if strategy.fits(families)]
