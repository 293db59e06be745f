"""Pairwise interactions: the triangle a gather picks from a batched product, computed where it is written.

`gram = torch.bmm(A, B)` followed by `gram[:, rows, cols]`, where rows and cols are a `tril_indices` or
`triu_indices` pair (lowering_triangle.py), writes the [batch, n, m] product only for a kernel to read back the
triangle. The `pairwise` schedule makes that gather one `pairwise` step over A and B instead (pairwise_source.py):
each program multiplies one sample's tile of rows by its tile of columns and stores only the products that are
pairs of the triangle, where they come in the result. The vendor product and the gather stay the plain schedule,
and the harness's timings choose.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from .lowering import live_steps
from .program import GATHERED, PrimStep, Program, PyStep, Step

_PADDED = re.compile(r"(\w+)\[None, \.\.\.\]")  # lowering_subscript.padded's view of an arange's stand-in


def pairwise_program(program: Program) -> Program | None:
    """`program` with each gather of a triangle from a batched product made a `pairwise` step (the product, no
    longer read, is dropped); None where it has none."""
    steps: dict[str, Step] = {step.name: step for step in program.steps}
    replaced = [_interaction(step, steps, program) or step for step in program.steps]
    if replaced == program.steps:
        return None
    return replace(program, steps=live_steps(replaced, program.output))


def _interaction(step: Step, steps: dict[str, Step], program: Program) -> PrimStep | None:
    """`step` as a pairwise step: (A, B, then the triangle's sizes, offset, count and side), or None."""
    if not isinstance(step, PrimStep) or step.kind != "gather" or step.fn != "subscript" \
            or step.dims != (0, GATHERED, GATHERED):
        return None
    operands = _product_operands(steps.get(step.args[0]), program)
    (rows, rows_k), (cols, cols_k) = (_triangle(steps, program, ids) for ids in step.args[1:])
    if operands is None or rows is None or cols is None or rows.args[1:6] != cols.args[1:6] \
            or (rows.args[6].expr, cols.args[6].expr) != ("False", "True") or rows_k != cols_k:
        return None
    return PrimStep(step.name, "pairwise", "triangle", (*operands, *rows.args[1:6]), step.shape)


def _product_operands(table: Step | None, program: Program) -> tuple[str, str] | None:
    """A and B of a vendor `torch.bmm(A, B)` step."""
    if not isinstance(table, PyStep) or table.vendor != "torch.bmm":
        return None
    call = ast.parse(table.code, mode="eval").body
    if not isinstance(call, ast.Call) or call.keywords or len(call.args) != 2 \
            or not all(isinstance(arg, ast.Name) and arg.id in program.tensors for arg in call.args):
        return None
    return call.args[0].id, call.args[1].id


def _triangle(steps: dict[str, Step], program: Program, ids: str) -> tuple[PrimStep | None, str | None]:
    """The `triangle` step `ids` names (through identities) and the arange of its k, which must be its own of all
    `count` pairs, seen as [1, count]: the gather then lists every pair, in order."""
    step = steps.get(ids)
    while isinstance(step, PrimStep) and step.fn == "identity" and not step.dims:
        step = steps.get(step.args[0])
    if not isinstance(step, PrimStep) or step.fn != "triangle":
        return None, None
    view = steps.get(step.args[0])
    match = _PADDED.fullmatch(view.code) if isinstance(view, PyStep) else None
    arange = steps.get(match.group(1)) if match else None
    count = step.args[4].expr
    if not isinstance(arange, PyStep) or arange.name not in program.index_tensors \
            or not arange.code.startswith(f"torch.empty({count}, ") or len(view.shape.dims) != 2:
        return None, None
    return step, arange.name
