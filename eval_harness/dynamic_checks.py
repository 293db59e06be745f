"""Checks of what a candidate does when it runs, beyond whether its outputs match.

- Its custom kernels launched (Triton launch hook), and they carry the result: with every launch
  skipped ("ghost replay"), the output must change.
- No PyTorch compute ran as ATen operators (torch.profiler's CPU events name every ATen call, on
  any device): under `strict` only allocation, views and copies may; `hybrid` also lets vendor
  GEMM, convolution and fused attention through. This is stricter than "none of the reference's operators": a
  candidate that computes GELU through aten::tanh instead of the reference's aten::gelu is still
  computing in PyTorch.
- After timing, the timed instance recomputes fresh inputs correctly: results are not reused.
- The regime's PyTorch flags (TF32, float32 matmul precision) are as the harness set them: a
  candidate that switched them computed, and let the reference compute, in another regime.
- The problem itself is not degenerate: its output is not within tolerance of a constant, and
  depends on its inputs and (where it has any) its weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from . import kernel_launches
from .failures import StageFailure, candidate_failure
from .float64_arbiter import judge_outputs
from .instances import ProblemInstance, call_model, run_into_poisoned_memory
from .precision import MathMode, flags_differ
from .results import ErrorKind, EvalStatus, ProblemSanity, Stage, Tolerance
from .settings import Policy
from .tensors import as_output_list, clone_all, compare_outputs, scrub

# ATen operators that allocate, view, move or describe data: a candidate may always call them.
ALLOWED_ATEN_OPS = frozenset({
    "aten::empty", "aten::empty_like", "aten::empty_strided", "aten::zeros", "aten::zeros_like",
    "aten::ones", "aten::ones_like", "aten::full", "aten::full_like", "aten::fill_", "aten::zero_",
    "aten::arange", "aten::view", "aten::reshape", "aten::_reshape_alias", "aten::as_strided",
    "aten::contiguous", "aten::clone", "aten::copy_", "aten::to", "aten::_to_copy", "aten::transpose",
    "aten::permute", "aten::t", "aten::expand", "aten::expand_as", "aten::unsqueeze", "aten::squeeze",
    "aten::slice", "aten::select", "aten::narrow", "aten::flatten", "aten::unflatten", "aten::detach",
    "aten::alias", "aten::lift_fresh", "aten::resolve_conj", "aten::resolve_neg", "aten::item",
    "aten::_local_scalar_dense", "aten::size", "aten::stride", "aten::numel", "aten::split",
    "aten::chunk", "aten::unbind", "aten::view_as", "aten::result_type", "aten::is_nonzero",
    "aten::set_", "aten::record_stream", "aten::_unsafe_view", "aten::movedim", "aten::new_empty",
    "aten::new_empty_strided", "aten::new_zeros", "aten::new_ones", "aten::new_full", "aten::broadcast_to",
    "aten::swapaxes", "aten::swapdims", "aten::resize_", "aten::as_strided_",
    # An asynchronous assertion on a flag a kernel wrote (bad ids or bounds): it computes nothing the output holds,
    # and what it checks, if PyTorch computed it, shows as its own operator.
    "aten::_assert_async",
})
# Vendor-library heavy operators that `hybrid` leaves to cuBLAS/cuDNN, and fused attention (whichever backend
# scaled_dot_product_attention picks runs beneath it, and so is opaque).
VENDOR_HEAVY_ATEN_OPS = frozenset({
    "aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::linear",
    "aten::convolution", "aten::_convolution", "aten::conv1d", "aten::conv2d", "aten::conv3d",
    "aten::cudnn_convolution", "aten::conv_transpose1d", "aten::conv_transpose2d", "aten::conv_transpose3d",
    "aten::cudnn_convolution_transpose", "aten::mkldnn_convolution", "aten::_convolution_mode",
    "aten::convolution_overrideable", "aten::slow_conv2d_forward", "aten::slow_conv3d_forward",
    "aten::_slow_conv2d_forward", "aten::slow_conv_transpose2d", "aten::slow_conv_transpose3d",
    "aten::scaled_dot_product_attention",
})


def aten_ops(model: nn.Module, inputs: Sequence[Any], *, opaque: frozenset[str] = frozenset()) -> frozenset[str]:
    """The ATen operators a forward ran, leaving out those an `opaque` operator ran as its own implementation.

    cuDNN's transposed convolution adds its bias with `aten::add_`; that belongs to the vendor call
    `hybrid` allows, not to the candidate.
    """
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        call_model(model, inputs)

    def inside_opaque(event: Any) -> bool:
        parent = event.cpu_parent
        while parent is not None:
            if parent.name in opaque:
                return True
            parent = parent.cpu_parent
        return False

    return frozenset(e.name for e in prof.events() if e.name.startswith("aten::") and not inside_opaque(e))


def _kernels_outside_aten(model: nn.Module, inputs: Sequence[Any]) -> list[str]:
    """CUDA kernels that no ATen operator launched: a `load_inline` extension's, for instance."""
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        call_model(model, inputs)
        torch.cuda.synchronize()
    events = prof.events()
    from_aten = {kernel.name for e in events if e.name.startswith("aten::") for kernel in e.kernels}
    on_device = {e.name for e in events if e.device_type == torch.autograd.DeviceType.CUDA}
    return sorted(on_device - from_aten)


def _failure(kind: ErrorKind, message: str) -> StageFailure:
    return StageFailure(kind, Stage.DYNAMIC_CHECK, message, status=EvalStatus.INCORRECT)


def check_candidate(
    instance: ProblemInstance,
    candidate_cls: type,
    seed: int,
    tolerance: Tolerance,
    *,
    policy: Policy,
) -> None:
    """Launches, ghost replay and PyTorch compute; raises StageFailure on a breach."""
    model = instance.candidate(candidate_cls, seed)
    inputs = instance.inputs(seed)
    try:
        with kernel_launches.recording() as launches:
            real = run_into_poisoned_memory(model, clone_all(inputs), instance.device)
    except Exception as exc:
        raise candidate_failure(exc, Stage.DYNAMIC_CHECK) from exc
    if not launches:
        cuda_kernels = _kernels_outside_aten(model, clone_all(inputs)) if instance.device.type == "cuda" else []
        if not cuda_kernels:
            raise _failure(ErrorKind.KERNEL_NOT_LAUNCHED, "no custom kernel (Triton, or CUDA outside ATen) ran")
    # Ghost replay next, while `real` is alive and no other result for these inputs has been freed:
    # where memory cannot be poisoned (CPU), a freed correct output could pass for the ghost's.
    # It covers Triton launches; CUDA C++ launches cannot be intercepted, so for a candidate with
    # only those, the static rules and the ATen check below carry the load.
    ghost = None
    if launches:
        try:
            with kernel_launches.recording(ghost=True, protected=[*model.parameters(), *model.buffers()]):
                ghost = run_into_poisoned_memory(model, clone_all(inputs), instance.device)
        except Exception:  # without its kernels the forward cannot even finish: they are load-bearing
            ghost = None
    not_load_bearing = ghost is not None and compare_outputs(ghost, real, tolerance).kind is None
    scrub([*real, *(ghost or [])], keep=[*inputs, *model.parameters(), *model.buffers()])
    if not_load_bearing:
        raise _failure(
            ErrorKind.KERNELS_NOT_LOAD_BEARING,
            f"with its {sum(launches.values())} kernel launches skipped, the output did not change: "
            "the result is computed elsewhere",
        )
    try:
        vendor = VENDOR_HEAVY_ATEN_OPS if policy is Policy.HYBRID else frozenset()
        candidate_ops = aten_ops(model, clone_all(inputs), opaque=vendor)
    except Exception as exc:
        raise candidate_failure(exc, Stage.DYNAMIC_CHECK) from exc
    allowed = ALLOWED_ATEN_OPS | vendor
    leaked = sorted(candidate_ops - allowed)
    if leaked:
        raise _failure(
            ErrorKind.REFERENCE_OPS_RAN,
            f"under {policy.value}, computation ran as PyTorch operators instead of custom kernels: "
            f"{', '.join(leaked)}",
        )


def check_fresh_inputs(
    instance: ProblemInstance, model: nn.Module, model_seed: int, input_seed: int, tolerance: Tolerance
) -> None:
    """The instance that was timed must still be right on inputs it has never seen."""
    inputs = instance.inputs(input_seed)
    try:
        candidate_out = run_into_poisoned_memory(model, clone_all(inputs), instance.device)
    except Exception as exc:
        raise candidate_failure(exc, Stage.DYNAMIC_CHECK) from exc
    reference_out = as_output_list(call_model(instance.reference(model_seed), inputs))
    check = judge_outputs(candidate_out, reference_out, instance, model_seed, input_seed, tolerance)
    scrub([*candidate_out, *reference_out], keep=[*inputs, *model.parameters(), *model.buffers()])
    if check.kind is not None:
        raise _failure(
            ErrorKind.STALE_RESULT,
            f"after timing, wrong on fresh inputs ({check.message}): results are reused across calls",
        )


def check_math_mode(mode: MathMode) -> None:
    """After the candidate ran: the flags still say `mode` (the static checks refuse writing them; this catches
    a write they could not see)."""
    if differs := flags_differ(mode):
        raise _failure(ErrorKind.POLICY_VIOLATION, f"the candidate changed the regime's math flags: {differs}")


def _constant_like(template: torch.Tensor, value_from: torch.Tensor) -> torch.Tensor:
    if template.numel() == 0:
        return template.clone()
    if template.is_floating_point():
        return torch.full_like(template, float(value_from.double().mean()))
    return torch.full_like(template, value_from.reshape(-1)[0].item())


def problem_sanity(instance: ProblemInstance, seed: int, tolerance: Tolerance) -> ProblemSanity:
    """Reasons a cheap answer would pass this problem's correctness check, if there are any.

    The constant a cheat could return is one it knew in advance: the mean of the output for other
    inputs. (The mean of this very output would make every scalar-output problem look degenerate.)
    """
    reference = instance.reference(seed)
    inputs = instance.inputs(seed)
    out = [t for t in as_output_list(call_model(reference, inputs)) if isinstance(t, torch.Tensor)]
    other = [t for t in as_output_list(call_model(reference, instance.inputs(seed + 1))) if isinstance(t, torch.Tensor)]
    reasons = []
    constants = [_constant_like(t, o) for t, o in zip(out, other, strict=True)]
    if compare_outputs(constants, out, tolerance).kind is None:
        reasons.append("the output is within tolerance of a constant known in advance")
    if compare_outputs(other, out, tolerance).kind is None:
        reasons.append("the output does not depend on the inputs")
    parameters = list(reference.parameters())
    if parameters:
        with torch.no_grad():
            for parameter in parameters:
                parameter.zero_()
        zeroed = [t for t in as_output_list(call_model(reference, inputs)) if isinstance(t, torch.Tensor)]
        if compare_outputs(zeroed, out, tolerance).kind is None:
            reasons.append("the output does not depend on the weights")
    return ProblemSanity(degenerate_reasons=reasons)
