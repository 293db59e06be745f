"""Where a convolution's bias is added: in the kernel that computes on the convolution's output, not by PyTorch.

cuDNN called with a bias leaves the add to ATen, a pass of its own over the whole output (0.25 ms beside the
convolution's 0.29 ms, measured on an H100 in `default`). Called without it, the add joins whatever elementwise
kernel reads the output next, for the price of reading one value per channel.
"""

from __future__ import annotations

from .lowering import VIEW_METHODS, LoweringState
from .traced import TracedNode, tag_of


def convolution_bias(state: LoweringState, node: TracedNode) -> str | None:
    """The bias tensor of a convolution whose output a later step computes on; None for other calls."""
    raw = node.args[2] if len(node.args) > 2 else node.kwargs.get("bias")
    if not node.op.startswith("conv") or node.meta is None or raw is None or not _computed_on(state, node.name):
        return None
    bias = state.operand(raw)
    return bias if isinstance(bias, str) and len(state.shape(bias)) == 1 else None


def _computed_on(state: LoweringState, name: str) -> bool:
    """Whether a later step computes on `name`'s values (through views): only then is there a kernel for a bias
    to join; a convolution whose output is returned as it is keeps cuDNN's own bias."""
    reached, computed = {name}, False
    for later in state.traced.nodes:
        if reached & _node_names([*later.args, *later.kwargs.values()]):
            if later.op in VIEW_METHODS or later.op == "getitem":
                reached.add(later.name)
            else:
                computed = True
    return computed


def _node_names(values: list) -> set[str]:
    """The traced values `values` read, nested lists included."""
    found: set[str] = set()
    for value in values:
        if tag_of(value) == "node":
            found.add(value["node"])
        elif tag_of(value) == "list":
            found |= _node_names(value["list"])
    return found
