"""`torch.einsum` as the product and sum its subscripts name.

Every operand is viewed into one shared index order, the output's indices first and then the contracted ones
(a permute, and `None` where the operand lacks an index), the views are multiplied with broadcasting, and the
product is summed over the contracted indices: one fused reduction that reads the operands through their views and
never stores the broadcast product. `"bld,bd->bl"` (attention scores against one query per row) is a row-wise dot
product this way, memory-bound, the kernel a target-attention layer wants.

A contraction of two operands that each keep an index of their own (`"bij,bjk->bik"`) is a GEMM, and where the
policy lets GEMMs stay with the vendor library it becomes `torch.matmul` between views: the shared output indices as
batch dims, each operand's own indices and the contracted ones flattened to one dim each (sizes read at run time).
einsum itself may not stay in a module under `hybrid`: its string, not its name, decides whether it is a GEMM
(static_checks/names.py).
"""

from __future__ import annotations

import math

from .lowering import Handler, LoweringState
from .lowering_index import listed_items
from .program import Shape
from .traced import TracedNode, tag_of


def subscripts(equation: str, operands: int) -> tuple[list[str], str] | str:
    """Each operand's indices and the output's, or why this form is not written."""
    equation = equation.replace(" ", "")
    if "." in equation:
        return "with an ellipsis"
    left, arrow, output = equation.partition("->")
    inputs = left.split(",")
    if len(inputs) != operands or not all(part.isalpha() for part in inputs) or not (output.isalpha() or not output):
        return f"whose subscripts {equation!r} do not name each of its {operands} operands' dims by letters"
    if not arrow:  # implicit output: the indices that appear once, in alphabetical order
        letters = "".join(inputs)
        output = "".join(sorted(letter for letter in set(letters) if letters.count(letter) == 1))
    if any(len(set(part)) != len(part) for part in inputs) or len(set(output)) != len(output):
        return "with an index repeated within one operand (a diagonal)"
    if not set(output) <= set("".join(inputs)):
        return "with an output index no operand has"
    return inputs, output


def _gemm_form(state: LoweringState, node: TracedNode, inputs: list[str], output: str, operands: list[str]) -> bool:
    """The contraction as `torch.matmul` of two views and a view of its result, where it is a GEMM and the policy
    leaves GEMMs to the vendor library; False (nothing emitted) otherwise."""
    if len(inputs) != 2 or (state.gemm_in_triton and not state.vendor_fallback):
        return False
    (a, b), (x, y) = inputs, operands
    batch = [letter for letter in output if letter in a and letter in b]
    contracted = [letter for letter in a if letter in b and letter not in output]
    rows, columns = [letter for letter in a if letter not in b], [letter for letter in b if letter not in a]
    if not contracted or not rows or not columns or not set(rows + columns) <= set(output):
        return False
    size = {letter: n for part, operand in zip(inputs, operands, strict=True)
            for letter, n in zip(part, state.shape(operand), strict=True)}
    dtype = state.tensors[x].dtype

    def flattened(operand: str, part: str, first: list[str], second: list[str]) -> str:
        """`operand` as [batch..., first flattened, second flattened]."""
        permutation = tuple(part.index(letter) for letter in [*batch, *first, *second])
        code = operand if permutation == tuple(range(len(part))) else f"{operand}.permute{permutation!r}"
        start = len(batch)
        code += f".flatten({start}, {start + len(first) - 1})" if len(first) > 1 else ""
        code += f".flatten({start + 1}, {start + len(second)})" if len(second) > 1 else ""
        dims = (*(size[letter] for letter in batch), math.prod(size[letter] for letter in first),
                math.prod(size[letter] for letter in second))
        return state.emit_py(state.fresh("gemm_operand"), code, Shape(dims, dtype))

    left, right = flattened(x, a, rows, contracted), flattened(y, b, contracted, columns)
    product_dims = (*(size[letter] for letter in batch), state.shape(left)[-2], state.shape(right)[-1])
    product = state.emit_py(state.fresh("product"), f"torch.matmul({left}, {right})", Shape(product_dims, dtype),
                            vendor="torch.matmul")
    code, start = product, len(batch)
    for letters, operand, part, at in ((rows, x, a, start), (columns, y, b, start + len(rows))):
        if len(letters) > 1:  # the flattened dim back to its letters, sized at run time
            sizes = ", ".join(f"{operand}.shape[{part.index(letter)}]" for letter in letters)
            code += f".unflatten({at}, ({sizes}))"
    placed = [*batch, *rows, *columns]
    permutation = tuple(placed.index(letter) for letter in output)
    code += "" if permutation == tuple(range(len(output))) else f".permute{permutation!r}"
    state.emit_py(node.name, code, Shape(tuple(size[letter] for letter in output), dtype))
    return True


def _einsum(state: LoweringState, node: TracedNode) -> None:
    equation, *rest = node.args
    listed = rest[0] if len(rest) == 1 and tag_of(rest[0]) == "list" else None
    operands = [state.operand(arg) for arg in (listed_items(listed) if listed is not None else rest)]
    equation = state.value(equation)
    if not isinstance(equation, str) or not operands or any(not isinstance(x, str) for x in operands):
        state.decline(node, "other than of a constant equation over tensors held in memory")
        return
    parsed = subscripts(equation, len(operands))
    if isinstance(parsed, str):
        state.decline(node, parsed)
        return
    inputs, output = parsed
    if any(len(part) != len(state.shape(x)) for part, x in zip(inputs, operands, strict=True)):
        state.decline(node, "whose subscripts do not match its operands' ranks")
        return
    if _gemm_form(state, node, inputs, output, operands):
        return
    order = [*output, *(letter for letter in dict.fromkeys("".join(inputs)) if letter not in output)]
    aligned = []
    for part, x in zip(inputs, operands, strict=True):
        own = sorted(part, key=order.index)
        permutation = tuple(part.index(letter) for letter in own)
        view = x if permutation == tuple(range(len(part))) else f"{x}.permute{permutation!r}"
        if len(part) < len(order):
            view += f"[{', '.join(':' if letter in part else 'None' for letter in order)}]"
        if view == x:
            aligned.append(x)
            continue
        sizes = tuple(state.shape(x)[part.index(letter)] if letter in part else 1 for letter in order)
        aligned.append(state.emit_py(state.fresh("aligned"), view, Shape(sizes, state.tensors[x].dtype)))
    contracted = tuple(range(len(output), len(order)))
    product = aligned[0]
    for position, operand in enumerate(aligned[1:], start=2):
        last = position == len(aligned) and not contracted
        product = state.pw("mul", product, operand, name=node.name if last else None)
    if contracted:
        state.reduce("sum", product, contracted, False, name=node.name)
    elif len(aligned) == 1:
        state.pw("identity", product, name=node.name)


EINSUM: dict[str, Handler] = {"einsum": _einsum}
