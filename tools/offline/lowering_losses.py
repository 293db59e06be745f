"""Elementwise losses (each element's loss, then the reduction the call asks for) written as primitives."""

from __future__ import annotations

from .lowering import Handler, LoweringState
from .program import Scalar
from .traced import TracedNode

# PyTorch's binary cross-entropy clamps each log at -100, so a probability of exactly 0 or 1 costs 100, not inf.
_LOG_FLOOR = Scalar("-100.0", True)


def _difference_loss(state: LoweringState, op: str, bound: dict, a: str | Scalar, b: str | Scalar) -> str | Scalar:
    """Losses of the difference: squared, absolute, smooth L1 (over `beta`) and Huber (over `delta`)."""
    diff = state.pw("sub", a, b)
    if op == "mse_loss":
        return state.pw("mul", diff, diff)
    size = state.pw("abs", diff)
    if op == "l1_loss":
        return size
    half = Scalar("0.5", True)
    limit = state.operand(bound.get("beta" if op == "smooth_l1_loss" else "delta", {"const": 1.0}))
    squared = state.pw("mul", half, state.pw("mul", size, size))
    if op == "smooth_l1_loss":
        quadratic, linear = state.pw("div", squared, limit), state.pw("sub", size, state.pw("mul", half, limit))
    else:
        quadratic, linear = squared, state.pw("mul", limit, state.pw("sub", size, state.pw("mul", half, limit)))
    return state.pw("where", state.pw("lt", size, limit), quadratic, linear)


def _elementwise(state: LoweringState, node: TracedNode, bound: dict) -> str | Scalar | None:
    a, b = state.operand(bound["input"]), state.operand(bound["target"])
    if node.op == "kl_div":
        target = state.pw("exp", b) if state.value(bound.get("log_target")) else b
        log_target = b if state.value(bound.get("log_target")) else state.pw("log", b)
        return state.pw("mul", target, state.pw("sub", log_target, a))
    if node.op == "binary_cross_entropy":
        one = Scalar("1.0", True)
        log_p = state.pw("maximum", state.pw("log", a), _LOG_FLOOR)
        log_q = state.pw("maximum", state.pw("log", state.pw("sub", one, a)), _LOG_FLOOR)
        return state.pw("neg", state.pw("add", state.pw("mul", b, log_p),
                                        state.pw("mul", state.pw("sub", one, b), log_q)))
    if node.op == "binary_cross_entropy_with_logits":
        # max(x, 0) - x * t + log(1 + exp(-|x|)): no exp of a large logit overflows
        softplus = state.pw("log", state.pw("add", Scalar("1.0", True), state.pw("exp", state.pw("neg", state.pw(
            "abs", a)))))
        return state.pw("add", state.pw("sub", state.pw("clamp_min", a, Scalar("0.0", True)), state.pw("mul", a, b)),
                        softplus)
    return _difference_loss(state, node.op, bound, a, b)


def _loss(state: LoweringState, node: TracedNode) -> None:
    bound = state.bind(node)
    if any(state.value(bound.get(name)) is not None for name in ("weight", "pos_weight")):
        state.decline(node, "with a weight")
        return
    elementwise = _elementwise(state, node, bound)
    reduction = state.value(bound.get("reduction"))
    dims = tuple(range(len(state.shape(elementwise))))
    if reduction == "none":
        state.pw("identity", elementwise, name=node.name)
    elif reduction == "sum":
        state.reduce("sum", elementwise, dims, False, name=node.name)
    elif reduction == "batchmean":
        total = state.reduce("sum", elementwise, dims, False)
        batch = state.emit_py(state.fresh("batch"), f"{state.operand(bound['input'])}.shape[0]")
        state.pw("div", total, Scalar(batch, literal=False), name=node.name)
    else:
        state.reduce("mean", elementwise, dims, False, name=node.name)


LOSSES: dict[str, Handler] = {name: _loss for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
                                                       "binary_cross_entropy", "binary_cross_entropy_with_logits")}
