"""A second opinion in float64 when a candidate misses the reference by more than the tolerance.

The reference is a rounded computation too. Over a long reduction an op-by-op float32 sum (CUDA's
`segment_reduce` adds one row after another) drifts from the exact value by more than the regime's
tolerance, and a candidate that sums more accurately, in a tree or in many lanes, then "mismatches" it.
So on a mismatch the same reference, with its parameters and inputs exactly as the regime rounded them,
runs again in float64. The candidate passes when every element is within the tolerance of that result,
widened by the regime's reference's own distance from it: at least as close to exact as the reference is,
element by element. Nothing the candidate does reaches this computation. Where the reference cannot run
in float64 (an operator without a float64 kernel), the mismatch stands.
"""

from __future__ import annotations

from typing import Any

import torch

from .instances import ProblemInstance, call_model
from .results import ErrorKind, Tolerance
from .tensors import OutputCheck, as_output_list, compare_outputs, place, tolerated

# Elements compared at a time, as tensors.py compares them: three float64 copies of a multi-GB output would not fit.
_CHUNK = 1 << 24


def _float64_reference(instance: ProblemInstance, model_seed: int, input_seed: int) -> list[Any] | None:
    try:
        model = instance.reference(model_seed).double()
        with torch.no_grad():
            return as_output_list(call_model(model, place(instance.inputs(input_seed), instance.device, torch.float64)))
    except Exception:  # no float64 kernel for one of its operators, or a problem that insists on its dtype
        return None


def _outside(cand: torch.Tensor, ref: torch.Tensor, exact: torch.Tensor, tolerance: Tolerance) -> int:
    """Elements of `cand` outside the tolerance of the reference and further from `exact` than the tolerance plus
    the reference's own error. Where the reference or `exact` is not finite, only the reference's own value (or
    one within the tolerance of it) will do: an overflow grants no slack."""
    cand, ref, exact = cand.reshape(-1), ref.reshape(-1), exact.reshape(-1)
    outside = 0
    for start in range(0, exact.numel(), _CHUNK):
        part = slice(start, start + _CHUNK)
        c, r, e = cand[part].double(), ref[part].double(), exact[part]
        _, as_reference = tolerated(c, r, tolerance)
        # NaN compares False: an error the reference does not share is outside.
        trusted = torch.isfinite(r) & torch.isfinite(e)
        as_exact = trusted & ((c - e).abs() <= tolerance.atol + tolerance.rtol * e.abs() + (r - e).abs())
        outside += int((~as_reference & ~as_exact).sum())
    return outside


def _float64_verdict(
    candidate: list[Any], reference: list[Any], exact: list[Any] | None, tolerance: Tolerance, plain: OutputCheck
) -> OutputCheck | None:
    """The passing check when the float64 reference explains the mismatch `plain` found; None when it does not, or
    cannot run."""
    if exact is None or len(exact) != len(reference):
        return None
    for cand, ref, truth in zip(candidate, reference, exact, strict=True):
        floating = isinstance(ref, torch.Tensor) and ref.is_floating_point()
        if not floating or not isinstance(truth, torch.Tensor) or truth.shape != ref.shape:
            if compare_outputs([cand], [ref], tolerance).kind is not None:
                return None
        elif _outside(cand.detach(), ref.detach(), truth.detach(), tolerance):
            return None
    return OutputCheck(
        None,
        f"{plain.mismatched} of {plain.total} elements differ from the reference by more than atol={tolerance.atol}, "
        f"rtol={tolerance.rtol}; against the reference run in float64 each is, within that tolerance, as close as "
        "the reference itself",
        plain.max_abs_error, plain.max_rel_error, 0, plain.total,
    )


def judge_outputs(
    candidate: list[Any], reference: list[Any], instance: ProblemInstance, model_seed: int, input_seed: int,
    tolerance: Tolerance,
) -> OutputCheck:
    """compare_outputs, with a mismatch referred to the float64 reference (the reference built from `model_seed`,
    run on the inputs of `input_seed`)."""
    check = compare_outputs(candidate, reference, tolerance)
    if check.kind is not ErrorKind.OUTPUT_MISMATCH:
        return check
    exact = _float64_reference(instance, model_seed, input_seed)
    return _float64_verdict(candidate, reference, exact, tolerance, check) or check
