"""Sorts a canonical dotted name (or a tensor method name) into the category the rules judge."""

from __future__ import annotations

from enum import StrEnum

from . import names as n


class Category(StrEnum):
    ALLOWED = "allowed"  # allocation, views, metadata, structure
    COMPUTE = "compute"  # PyTorch / NumPy doing the reference's work
    VENDOR_HEAVY = "vendor_heavy"  # GEMM / convolution: compute that `hybrid` lets through
    COMPILER = "compiler"  # torch.compile, TorchScript, FX: PyTorch's kernels, not the candidate's
    GLOBAL_STATE = "global_state"
    RNG_STATE = "rng_state"
    PRECISION = "precision"
    CONCURRENCY = "concurrency"
    CUDA_GRAPH = "cuda_graph"
    TIMER = "timer"
    IO = "io"
    NETWORK = "network"
    INTROSPECTION = "introspection"
    SUBCLASS = "subclass"
    OTHER = "other"  # a library nobody judges (math, triton, functools...)


# Namespaces under torch.ops that are PyTorch's own operators; any other namespace is a custom op.
_TORCH_OP_NAMESPACES = frozenset({
    "aten", "prims", "prim", "quantized", "_quantized", "mkldnn", "quantized_decomposed", "higher_order",
    "_c10d_functional", "c10d", "torchvision", "inductor",
})


def is_custom_op(name: str) -> bool:
    """torch.ops.<namespace>.<op> for a namespace other than PyTorch's own: an op the candidate registered."""
    parts = name.split(".")
    return len(parts) >= 4 and parts[:2] == ["torch", "ops"] and parts[2] not in _TORCH_OP_NAMESPACES


def _under(name: str, prefixes: tuple[str, ...] | frozenset[str]) -> bool:
    """`name` is one of `prefixes` or lies under one (`a.b` under `a`; `a.set_x` under `a.set_`)."""
    return any(name == p or name.startswith(p + ".") or (p.endswith("_") and name.startswith(p)) for p in prefixes)


def classify_method(method: str) -> Category:
    """A method called on a receiver of unknown type, judged as if the receiver were a tensor."""
    if method in n.VENDOR_HEAVY_METHODS:
        return Category.VENDOR_HEAVY
    base = method[:-1] if method.endswith("_") and not method.endswith("__") else method
    if method in n.COMPUTE_METHODS or base in n.COMPUTE_METHODS or method in n.HOST_TRANSFER_METHODS:
        return Category.COMPUTE
    if method in n.DOWNCAST_METHODS:
        return Category.PRECISION
    if method in n.SUBCLASS_METHODS:
        return Category.SUBCLASS
    return Category.ALLOWED


def classify(name: str) -> Category:
    """The category of a canonical dotted name; order matters (a timer under torch.cuda is a timer).

    A listed name covers what lies under it: `sys.modules` covers `sys.modules.get`.
    """
    if _under(name, n.RNG_STATE_NAMES) or _under(name, n.RNG_STATE_PREFIXES):
        return Category.RNG_STATE
    if _under(name, n.PRECISION_NAMES) or _under(name, n.PRECISION_PREFIXES):
        return Category.PRECISION
    if _under(name, n.CUDA_GRAPH_NAMES):
        return Category.CUDA_GRAPH
    if _under(name, n.TIMER_NAMES) or _under(name, n.TIMER_MODULES):
        return Category.TIMER
    if _under(name, n.CONCURRENCY_NAMES) or _under(name, n.CONCURRENCY_PREFIXES) or _under(
            name, n.CONCURRENCY_MODULES):
        return Category.CONCURRENCY
    if _under(name, n.IO_NAMES) or _under(name, n.IO_PREFIXES) or _under(name, n.IO_MODULES):
        return Category.IO
    if _under(name, n.NETWORK_MODULES):
        return Category.NETWORK
    if _under(name, n.INTROSPECTION_NAMES) or _under(name, n.INTROSPECTION_MODULES):
        return Category.INTROSPECTION
    if _under(name, n.SUBCLASS_PREFIXES) or name.endswith(n.SUBCLASS_NAME_SUFFIXES):
        return Category.SUBCLASS
    if _under(name, n.COMPILER_PREFIXES):
        return Category.COMPILER
    if name == "torch" or name.startswith("torch."):
        return _classify_torch(name)
    if name == "numpy" or name.startswith("numpy."):
        return Category.ALLOWED if name == "numpy" or name in n.NUMPY_ALLOWED else Category.COMPUTE
    return Category.OTHER


def _classify_torch(name: str) -> Category:
    if name in n.VENDOR_HEAVY_FUNCTIONS:
        return Category.VENDOR_HEAVY
    if name.startswith("torch.Tensor."):
        return classify_method(name.removeprefix("torch.Tensor.").split(".")[0])
    if name.startswith("torch.nn.") and name.rsplit(".", 1)[-1] in n.LAYER_FORWARD_METHODS:
        return Category.COMPUTE  # nn.Linear.forward(self.fc, x): a layer's compute, called unbound
    if name in n.TORCH_ALLOWED_FUNCTIONS or _under(name, n.TORCH_ALLOWED_PREFIXES):
        return Category.ALLOWED
    if _under(name, n.TORCH_PRIVATE_COMPUTE_PREFIXES):
        return Category.COMPUTE
    if name.startswith("torch.ops."):
        return Category.ALLOWED if is_custom_op(name) else Category.COMPUTE
    parts = name.split(".")
    if len(parts) >= 3 and parts[1] == "nn" and parts[2][:1].isupper():
        return Category.ALLOWED  # constructing a layer computes nothing; calling it is judged apart
    if _under(name, n.GLOBAL_STATE_PREFIXES):
        return Category.GLOBAL_STATE
    return Category.COMPUTE
