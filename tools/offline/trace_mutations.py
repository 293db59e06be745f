"""In-place operations in a traced graph: later reads see the update.

torch.fx records `y.mul_(s)` as a node whose result is `y` updated, but the reads of `y` after it still name
`y`'s own node: `y.mul_(s); return y` would return `y` before the multiplication, and the generated program,
which computes every step into a tensor of its own, would drop the update. So each read of the changed
tensor after an in-place step is pointed at that step's result.

That is exact only where nothing else shares the changed tensor's memory. A tensor that is a view of another
(or has views), and read through one of them after the update, would need the update written through the
view; a parameter or buffer changed in place keeps the change across calls. Both are refused by name.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import operator
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

# Operations whose result may share its operand's memory: reshapes and views, slicing, and `contiguous` (which
# returns its operand when it is contiguous already).
_MAY_ALIAS = frozenset({
    "view", "view_as", "reshape", "reshape_as", "transpose", "permute", "t", "unsqueeze", "squeeze", "expand",
    "expand_as", "narrow", "select", "getitem", "flatten", "unflatten", "as_strided", "diagonal", "movedim",
    "swapaxes", "swapdims", "unbind", "split", "chunk", "detach", "contiguous", "real", "imag", "view_as_real",
    "view_as_complex", "T", "mT", "H", "mH",
})


# `x += y` on a tensor updates x in place; torch.fx's Proxy has no __iadd__, so Python would trace `x = x + y` and a
# second name for the same tensor (`skip = x`) would keep the old value. Recorded as the operator it is instead.
_AUGMENTED = {"__iadd__": operator.iadd, "__isub__": operator.isub, "__imul__": operator.imul,
              "__itruediv__": operator.itruediv}


@contextlib.contextmanager
def augmented_assignments_recorded() -> Iterator[None]:
    """While tracing, `x += y` becomes an `operator.iadd` node (and -=, *=, /=): follow_mutations treats it as
    the in-place step it is on a tensor (after shapes are propagated, which tell a tensor from a traced int)."""

    def recorder(function: Any) -> Any:
        return lambda proxy, other: proxy.tracer.create_proxy("call_function", function, (proxy, other), {})

    for method, function in _AUGMENTED.items():
        setattr(torch.fx.Proxy, method, recorder(function))
    try:
        yield
    finally:
        for method in _AUGMENTED:
            delattr(torch.fx.Proxy, method)


class InPlaceUnsupported(ValueError):
    """An in-place update whose effect reaches past the tensor it names."""


def _op_name(node: torch.fx.Node) -> str:
    target = node.target
    return target if isinstance(target, str) else getattr(target, "__name__", str(target))


def _changes_its_input(node: torch.fx.Node, model: nn.Module) -> bool:
    """`x.relu_()`, `torch.relu_(x)`, `F.silu(x, inplace=True)`, `nn.ReLU(inplace=True)(x)`: the first argument
    is updated; `x += y` on a tensor (augmented_assignments_recorded)."""
    if node.op == "call_function" and node.target in _AUGMENTED.values():
        changed = node.args[0]
        return isinstance(changed, torch.fx.Node) and changed.meta.get("tensor_meta") is not None
    name = _op_name(node)
    if name.endswith("_") and not name.startswith("_") and (
            node.op == "call_method" or any(getattr(space, name, None) is node.target for space in (torch, F))):
        return True  # not operator.and_ or operator.or_ (`a & b`), which end with "_" and change nothing
    if node.op == "call_module":
        return getattr(model.get_submodule(str(node.target)), "inplace", False) is True
    if node.op == "call_function" and callable(node.target):
        try:
            bound = inspect.signature(node.target).bind(*node.args, **node.kwargs)
        except (TypeError, ValueError):  # builtins without a signature take no `inplace`
            return False
        return bound.arguments.get("inplace") is True
    return False


def _aliases(tensor: torch.fx.Node) -> set[torch.fx.Node]:
    """Every node that may share `tensor`'s memory: its bases through alias-making steps, then their views."""
    root = tensor
    while root.op in ("call_method", "call_function") and _op_name(root) in _MAY_ALIAS and root.args \
            and isinstance(root.args[0], torch.fx.Node):
        root = root.args[0]
    found, frontier = {root}, [root]
    while frontier:
        for user in frontier.pop().users:
            if user not in found and user.op in ("call_method", "call_function") and _op_name(user) in _MAY_ALIAS \
                    and user.args and user.args[0] in found:
                found.add(user)
                frontier.append(user)
    return found


def _after(user: torch.fx.Node, step: torch.fx.Node, order: dict[torch.fx.Node, int]) -> bool:
    return user is not step and (user.op == "output" or order[user] > order[step])


def follow_mutations(graph: torch.fx.Graph, model: nn.Module) -> None:
    """Points every read after an in-place step at the step's result; raises InPlaceUnsupported where the
    update would reach a view, a base, or a parameter or buffer."""
    order = {node: position for position, node in enumerate(graph.nodes)}
    for step in list(graph.nodes):
        if not _changes_its_input(step, model) or not step.args or not isinstance(step.args[0], torch.fx.Node):
            continue
        changed: Any = step.args[0]
        changed.replace_all_uses_with(step, delete_user_cb=functools.partial(_after, step=step, order=order))
        # Views made of `changed` after the step now read the step; what still shares its memory is checked.
        what = f"`{_op_name(step)}` (in place)"
        shared = _aliases(changed)
        if any(node.op == "get_attr" for node in shared):
            raise InPlaceUnsupported(f"{what} changes a parameter or buffer, which keeps the change across calls")
        if any(_after(user, step, order) for alias in shared for user in alias.users):
            raise InPlaceUnsupported(f"{what} changes a tensor that shares memory with another read after it "
                                     "(a view or the base of one)")
