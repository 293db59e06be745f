"""Softmax, normalizations and losses written as the primitives they are made of.

Normalizations over channels or groups first view the input so that the statistics run over
trailing or chosen dims of a contiguous view; those views cost nothing and keep one kernel per norm.
"""

from __future__ import annotations

from .lowering import Handler, LoweringState
from .program import Scalar, Shape
from .traced import TracedNode


def _softmax(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    x = state.operand(bound["input"])
    dims = state.dims_of(x, bound["dim"])
    shifted = state.pw("sub", x, state.reduce("amax", x, dims, True))
    if node.op == "softmax":
        exps = state.pw("exp", shifted)
        state.pw("div", exps, state.reduce("sum", exps, dims, True), name=node.name)
    else:
        total = state.reduce("sum", state.pw("exp", shifted), dims, True)
        state.pw("sub", shifted, state.pw("log", total), name=node.name)


def _normalize(state: LoweringState, x: str, dims: tuple[int, ...], eps: Scalar, *, center: bool = True) -> str:
    """(x - mean) / sqrt(var + eps) over `dims` (biased variance), or x / sqrt(mean(x^2) + eps)."""
    if center:
        x = state.pw("sub", x, state.reduce("mean", x, dims, True))
    spread = state.reduce("mean", state.pw("mul", x, x), dims, True)
    return state.pw("mul", x, state.pw("rsqrt", state.pw("add", spread, eps)))


def _affine(state: LoweringState, y: str, weight: str | Scalar, bias: str | Scalar, name: str) -> str:
    has_weight, has_bias = isinstance(weight, str), isinstance(bias, str)
    if has_weight:
        y = state.pw("mul", y, weight, name=None if has_bias else name)
    if has_bias:
        y = state.pw("add", y, bias, name=name)
    if not (has_weight or has_bias):
        y = state.pw("identity", y, name=name)
    return y


def _layer_norm(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    x = state.operand(bound["input"])
    count = len(state.value(bound["normalized_shape"]) or [1]) if isinstance(
        state.value(bound["normalized_shape"]), list) else 1
    rank = len(state.shape(x))
    dims = tuple(range(rank - count, rank))
    eps = state.operand(bound["eps"])
    if node.op == "rms_norm":
        if isinstance(eps, Scalar) and eps.expr == "None":
            eps = Scalar("1.1920928955078125e-07", literal=True)
        y = _normalize(state, x, dims, eps, center=False)
        _affine(state, y, state.operand(bound["weight"]), Scalar("None", True), node.name)
        return
    y = _normalize(state, x, dims, eps)
    _affine(state, y, state.operand(bound["weight"]), state.operand(bound["bias"]), node.name)


def _channel_view(state: LoweringState, x: str, groups: str | None, group_count: int = 1) -> tuple[str, str]:
    """x (N, C, *) viewed as (N, C, S) or, with groups, (N, G, C // G, S); returns the view and C."""
    channels = state.emit_py(state.fresh("channels"), f"{x}.shape[1]")
    dims = state.shape(x)
    spatial = 1
    for size in dims[2:]:
        spatial *= size
    if groups is None:
        shape = (dims[0], dims[1], spatial)
        code = f"{x}.reshape({x}.shape[0], {channels}, -1)"
    else:
        shape = (dims[0], group_count, dims[1] // group_count, spatial)
        code = f"{x}.reshape({x}.shape[0], {groups}, {channels} // {groups}, -1)"
    return state.emit_py(state.fresh("view"), code, Shape(shape, state.tensors[x].dtype)), channels


def _param_view(state: LoweringState, tensor: str | Scalar, code_shape: str, dims: tuple[int, ...]) -> str | Scalar:
    if not isinstance(tensor, str):
        return tensor
    return state.emit_py(state.fresh("view"), f"{tensor}.view({code_shape})", Shape(dims, state.tensors[tensor].dtype))


def _group_norm(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    x = state.operand(bound["input"])
    g = int(state.value(bound["num_groups"]))
    groups = state.py(bound["num_groups"])
    view, channels = _channel_view(state, x, groups, g)
    per_group = state.shape(x)[1] // g
    y = _normalize(state, view, (2, 3), state.operand(bound["eps"]))
    shape = f"1, {groups}, {channels} // {groups}, 1"
    weight = _param_view(state, state.operand(bound["weight"]), shape, (1, g, per_group, 1))
    bias = _param_view(state, state.operand(bound["bias"]), shape, (1, g, per_group, 1))
    y = _affine(state, y, weight, bias, state.fresh("normed"))
    state.emit_py(node.name, f"{y}.view({x}.shape)", state.tensors[x])


def _batch_norm(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    x = state.operand(bound["input"])
    key = "use_input_stats" if node.op == "instance_norm" else "training"
    batch_stats = state.value(bound.get(key)) is not False or isinstance(state.operand(bound["running_mean"]), Scalar)
    if not batch_stats:
        _running_batch_norm(state, bound, x, node.name)
        return
    view, channels = _channel_view(state, x, None)
    channels_count = state.shape(x)[1]
    shape = f"1, {channels}, 1"
    weight = _param_view(state, state.operand(bound["weight"]), shape, (1, channels_count, 1))
    bias = _param_view(state, state.operand(bound["bias"]), shape, (1, channels_count, 1))
    y = _normalize(state, view, (2,) if node.op == "instance_norm" else (0, 2), state.operand(bound["eps"]))
    y = _affine(state, y, weight, bias, state.fresh("normed"))
    state.emit_py(node.name, f"{y}.view({x}.shape)", state.tensors[x])


def _running_batch_norm(state: LoweringState, bound: dict, x: str, name: str) -> None:
    """(x - mean) * rsqrt(var + eps) with running statistics, over x's own shape.

    Nothing is reduced, so no channel view is needed: the parameters are viewed as (1, C, 1, ...), the per-channel
    factor is computed first (its own tiny kernel), and the whole-tensor pass is one kernel that what follows
    (a ReLU) joins, reading the input in whatever layout the convolution before it wrote.
    """
    channels = state.emit_py(state.fresh("channels"), f"{x}.shape[1]")
    rank = len(state.shape(x))
    shape = f"1, {channels}" + ", 1" * (rank - 2)
    dims = (1, state.shape(x)[1], *(1,) * (rank - 2))
    mean, var, weight, bias = (_param_view(state, state.operand(bound[key]), shape, dims)
                               for key in ("running_mean", "running_var", "weight", "bias"))
    factor = state.pw("rsqrt", state.pw("add", var, state.operand(bound["eps"])))
    _affine(state, state.pw("mul", state.pw("sub", x, mean), factor), weight, bias, name)


def _cross_entropy(state: LoweringState, node: TracedNode) -> None:
    """log-sum-exp of each row minus the target's logit, picked by comparing the class index with it."""
    bound = state.bind(node)
    x, target = state.operand(bound["input"]), state.operand(bound["target"])
    plain = state.value(bound.get("weight")) is None and not state.value(bound.get("label_smoothing"))
    if not plain or len(state.shape(x)) != 2 or len(state.shape(target)) != 1:
        state.unsupported.append("cross_entropy with class weights, label smoothing, probabilities or extra dims")
        state.emit_py(node.name, f"None  # unsupported: {node.op}")
        return
    top = state.reduce("amax", x, (1,), True)
    log_total = state.pw("log", state.reduce("sum", state.pw("exp", state.pw("sub", x, top)), (1,), True))
    column = state.emit_py(state.fresh("target"), f"{target}.view(-1, 1)", Shape((state.shape(target)[0], 1),
                                                                                   "torch.int64"))
    # The index rides on the row's max only to join its kernel; its value is the class position.
    classes = state.emit_prim("pointwise", "index", [top], dims=(1,), shape_override=state.shape(x))
    picked = state.reduce("sum", state.pw("where", state.pw("eq", classes, column), x, Scalar("0.0", True)),
                          (1,), True)
    valid = state.pw("ne", column, state.operand(bound["ignore_index"]))
    losses = state.pw("where", valid, state.pw("sub", state.pw("add", top, log_total), picked), Scalar("0.0", True))
    reduction = state.value(bound.get("reduction"))
    flat = state.reduced_view(losses, (1,), False)
    if reduction == "none":
        state.pw("identity", flat, name=node.name)
    elif reduction == "sum":
        state.reduce("sum", flat, (0,), False, name=node.name)
    else:
        counted = state.reduce("sum", state.pw("float", state.reduced_view(valid, (1,), False)), (0,), False)
        state.pw("div", state.reduce("sum", flat, (0,), False), counted, name=node.name)


def _triplet_margin(state: LoweringState, node: TracedNode) -> None:
    """relu(||a - p + eps|| - ||a - n + eps|| + margin) per row: both distances reduce in one kernel."""
    bound = state.bind(node)
    anchor, positive, negative = (state.operand(bound[k]) for k in ("anchor", "positive", "negative"))
    if state.value(bound.get("p")) not in (2, 2.0) or state.value(bound.get("swap")) or len(state.shape(anchor)) != 2:
        state.unsupported.append("triplet_margin_loss other than p=2 without swap on rows")
        state.emit_py(node.name, f"None  # unsupported: {node.op}")
        return
    eps = state.operand(bound["eps"])

    def distance(other: str) -> str | Scalar:
        difference = state.pw("add", state.pw("sub", anchor, other), eps)  # as F.pairwise_distance does
        return state.pw("sqrt", state.reduce("sum", state.pw("mul", difference, difference), (1,), False))

    gap = state.pw("add", state.pw("sub", distance(positive), distance(negative)), state.operand(bound["margin"]))
    reduction = state.value(bound.get("reduction"))
    if reduction == "none":
        state.pw("relu", gap, name=node.name)
    else:
        state.reduce("sum" if reduction == "sum" else "mean", state.pw("relu", gap), (0,), False, name=node.name)


def _normalize_lp(state: LoweringState, node: TracedNode) -> None:
    """x / max(||x||_p, eps) along a dim, for p = 1 or 2."""
    bound = state.bind(node)
    x = state.operand(bound["input"])
    power = state.value(bound.get("p"))
    if power not in (1, 1.0, 2, 2.0):
        state.unsupported.append("normalize with p other than 1 or 2")
        state.emit_py(node.name, f"None  # unsupported: {node.op}")
        return
    dims = state.dims_of(x, bound["dim"])
    if power in (1, 1.0):
        norm = state.reduce("sum", state.pw("abs", x), dims, True)
    else:
        norm = state.pw("sqrt", state.reduce("sum", state.pw("mul", x, x), dims, True))
    state.pw("div", x, state.pw("clamp_min", norm, state.operand(bound["eps"])), name=node.name)


def _cosine_similarity(state: LoweringState, node: TracedNode) -> None:
    """sum over dim of (x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)), as PyTorch computes it (each operand
    scaled by its own clamped norm first); operands of one rank, broadcast against each other."""
    bound = state.bind(node)
    x1, x2 = state.operand(bound["x1"]), state.operand(bound["x2"])
    if not isinstance(x1, str) or not isinstance(x2, str) or len(state.shape(x1)) != len(state.shape(x2)):
        state.decline(node, "of operands of different ranks")
        return
    dims = state.dims_of(x1, bound["dim"])
    eps = state.operand(bound["eps"])

    def unit(x: str) -> str:
        norm = state.pw("sqrt", state.reduce("sum", state.pw("mul", x, x), dims, True))
        return state.pw("div", x, state.pw("clamp_min", norm, eps))

    state.reduce("sum", state.pw("mul", unit(x1), unit(x2)), dims, False, name=node.name)


COMPOSITES: dict[str, Handler] = {
    "softmax": _softmax, "log_softmax": _softmax, "layer_norm": _layer_norm, "rms_norm": _layer_norm,
    "group_norm": _group_norm, "batch_norm": _batch_norm, "instance_norm": _batch_norm,
    "cross_entropy": _cross_entropy,
    "triplet_margin_loss": _triplet_margin, "normalize": _normalize_lp, "cosine_similarity": _cosine_similarity,
}
