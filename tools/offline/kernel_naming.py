"""A group's kernels as a person reviews them: parameters named after the traced tensors, and only those used.

The kernel writers name operands by position (`a0_ptr`, `a0_st1`, `x0`); this renames them after the tensors
they stand for (`x_ptr`, `x_stride1`, `x`) and drops the parameters a kernel's body never reads, so that its
launch passes exactly what it uses, by keyword. Traced names are sanitised to ASCII identifiers and deduplicated
against every other identifier of the kernels, so a name can neither collide nor inject code.
"""

from __future__ import annotations

import ast
import keyword
import re

from .fusion_groups import FusionGroup
from .segment_source import segment_operands
from .triton_source import KernelNames

_IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
# Positional names the kernel writers use: a family (one operand) and a part of it, or a loaded value.
_PART = re.compile(r"(?P<family>[abwoqugptec]\d+)_(?P<part>ptr|st\d+|n\d+|off|k|base)")
_GEMM_PART = re.compile(r"(?P<family>[xw])_(?P<part>ptr|s\d+)")
_VALUE = re.compile(r"(?P<kind>[xy])(?P<index>\d+)")
_OUT_STRIDE = re.compile(r"(?P<level>[op])s(?P<dim>\d+)")
_VALUE_FAMILY = {"x": "a", "y": "b"}


def sanitise(name: str) -> str:
    """`name` reduced to [A-Za-z_][A-Za-z0-9_]*; empty when nothing readable is left."""
    cleaned = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", name)).strip("_")
    return f"t_{cleaned}" if cleaned[:1].isdigit() else cleaned


def _families(group: FusionGroup) -> dict[str, str]:
    """Each positional operand family -> the traced tensor it stands for."""
    names = KernelNames(group)
    product = group.gemm()
    families = {f"{prefix}{i}": tensor for prefix, tensors in (
        ("a", names.full), ("b", names.reduced), ("w", names.windowed), ("e", names.gathered),
        ("o", names.outputs_full), ("q", names.outputs_reduced), ("u", names.outputs_picked), ("p", names.pieces),
        ("t", names.tables), ("c", names.scattered))
        for i, tensor in enumerate(tensors)}
    if product is not None:
        first, second = product.tensor_args()[:2]
        families |= {"x": first, "w": second} if group.kind == "gemm" else {"g0": first, "g1": second}
    if (segment := group.segment()) is not None:
        families |= segment_operands(segment)
    if (pair := group.pairwise()) is not None:
        families |= dict(zip(("g0", "g1"), pair.tensor_args(), strict=True))
    return families


def _readable(identifier: str, families: dict[str, str], gemm: bool) -> str | None:
    """The name `identifier` reads as, or None for one that is not a positional name (or has no readable base)."""
    if match := _OUT_STRIDE.fullmatch(identifier):
        return f"{'picked' if match['level'] == 'p' else 'out'}_stride{match['dim']}"
    part_match = _PART.fullmatch(identifier) or (_GEMM_PART.fullmatch(identifier) if gemm else None)
    if part_match:
        base = sanitise(families.get(part_match["family"], ""))
        part = part_match["part"]
        suffix = {"ptr": "_ptr", "off": "_off", "k": "_row", "base": "_start"}.get(part) or \
            (f"_size{part[1:]}" if part.startswith("n") else f"_stride{part.lstrip('st')}")
        return base + suffix if base else None
    if match := _VALUE.fullmatch(identifier):
        return sanitise(families.get(f"{_VALUE_FAMILY[match['kind']]}{match['index']}", "")) or None
    return None


def renames(group: FusionGroup, source: str) -> dict[str, str]:
    """Positional name -> readable name, unique among all identifiers of `source` and never a keyword."""
    families = _families(group)
    identifiers = list(dict.fromkeys(_IDENTIFIER.findall(source)))
    wanted = {name: _readable(name, families, group.kind == "gemm") for name in identifiers}
    taken = {name for name, readable in wanted.items() if readable is None}
    chosen: dict[str, str] = {}
    for name, readable in wanted.items():
        if readable is None:
            continue
        candidate, count = readable, 1
        while candidate in taken or keyword.iskeyword(candidate):
            count += 1
            candidate = f"{readable}_{count}"
        taken.add(candidate)
        chosen[name] = candidate
    return chosen


def _used_parameters(function: ast.FunctionDef) -> list[str]:
    """Parameters the body reads; compile-time ones (annotated `tl.constexpr`) are kept as launch settings."""
    read = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)}
    return [arg.arg for arg in function.args.args if arg.annotation is not None or arg.arg in read]


def readable_kernels(group: FusionGroup, source: str) -> tuple[str, dict[str, dict[str, str]]]:
    """`source` (a group's kernels) renamed and without unused parameters, and per kernel the runtime
    parameters it keeps, as positional name -> readable name in signature order (what its launch passes)."""
    chosen = renames(group, source)
    renamed = _IDENTIFIER.sub(lambda match: chosen.get(match.group(0), match.group(0)), source)
    positional = {readable: name for name, readable in chosen.items()}
    kept: dict[str, dict[str, str]] = {}
    lines = renamed.split("\n")
    for function in (s for s in ast.parse(renamed).body if isinstance(s, ast.FunctionDef)):
        used = set(_used_parameters(function))
        line = function.lineno - 1  # the `def` line (the decorator's is before it)
        opening, closing = lines[line].index("(") + 1, lines[line].rindex(")")
        parameters = [p for p in lines[line][opening:closing].split(", ") if p.split(":")[0].strip() in used]
        lines[line] = f"{lines[line][:opening]}{', '.join(parameters)}{lines[line][closing:]}"
        kept[function.name] = {positional.get(arg.arg, arg.arg): arg.arg for arg in function.args.args
                               if arg.annotation is None and arg.arg in used}
    return "\n".join(lines), kept
