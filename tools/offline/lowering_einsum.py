"""`torch.einsum` as the product and sum its subscripts name.

Every operand is viewed into one shared index order, the output's indices first and then the contracted ones
(a permute, and `None` where the operand lacks an index), the views are multiplied with broadcasting, and the
product is summed over the contracted indices: one fused reduction that reads the operands through their views and
never stores the broadcast product. `"bld,bd->bl"` (attention scores against one query per row) is a row-wise dot
product this way, the kernel a target-attention layer wants; a contraction that is a large GEMM is slower so than
cuBLAS, which the search's timing shows. einsum itself may not stay in a module under `hybrid`: its string, not its
name, decides whether it is a GEMM (static_checks/names.py).
"""

from __future__ import annotations

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
