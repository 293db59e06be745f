"""Whether a candidate keeps a NaN where the reference does: a flag on the evaluation, not a verdict.

PyTorch's operators propagate NaN (a sum, a maximum, an activation of NaN is NaN), and code downstream relies on it
to notice a fault upstream; a kernel that turns NaN into a number (Triton's `tl.max` drops it, a `where` or a
clamp can replace it) hides the fault. Random inputs never hold one, so the correctness trials cannot tell. Here
one element of the first floating input is set to NaN and the places of NaN in the two outputs are compared. A
difference is reported among the evaluation's flags and does not fail it: how far a NaN spreads may depend on a
vendor library's algorithm (an FFT or Winograd convolution spreads it over more outputs than a direct one).
"""

from __future__ import annotations

import torch
from torch import nn

from .instances import ProblemInstance, call_model
from .tensors import as_output_list, clone_all, scrub


def _with_one_nan(inputs: list) -> bool:
    """Sets the middle element of the first non-empty floating input to NaN; False where there is none."""
    floating = next((t for t in inputs if isinstance(t, torch.Tensor) and t.is_floating_point() and t.numel()), None)
    if floating is None:
        return False
    where = torch.unravel_index(torch.tensor(floating.numel() // 2), floating.shape)
    floating[tuple(int(i) for i in where)] = float("nan")
    return True


def _nan_places_apart(candidate_out: list, reference_out: list) -> tuple[int, int, int]:
    """Output elements NaN in one and not the other; NaN elements of the reference; of the candidate."""
    apart = in_reference = in_candidate = 0
    for got, want in zip(candidate_out, reference_out, strict=False):
        if not (isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor) and want.is_floating_point()
                and got.shape == want.shape):
            continue
        got_nan, want_nan = got.isnan(), want.isnan()
        apart += int((got_nan != want_nan).sum())
        in_reference += int(want_nan.sum())
        in_candidate += int(got_nan.sum())
    return apart, in_reference, in_candidate


def nan_propagation_flag(instance: ProblemInstance, model: nn.Module, model_seed: int, input_seed: int) -> str | None:
    """A flag where the candidate's NaN places differ from the reference's on inputs holding one NaN."""
    inputs = instance.inputs(input_seed)
    if not _with_one_nan(inputs):
        return None
    try:
        reference_out = as_output_list(call_model(instance.reference(model_seed), inputs))
    except Exception:  # a reference that refuses NaN input leaves nothing to compare
        return None
    try:
        candidate_out = as_output_list(call_model(model, clone_all(inputs)))
    except Exception as exc:
        scrub(reference_out, keep=inputs)
        return f"nan_propagation: the candidate raised on an input holding one NaN, where the reference did not " \
               f"({type(exc).__name__})"
    apart, in_reference, in_candidate = _nan_places_apart(candidate_out, reference_out)
    scrub([*candidate_out, *reference_out], keep=[*inputs, *model.parameters(), *model.buffers()])
    if not apart:
        return None
    return (f"nan_propagation: with one input element NaN, {apart} output elements are NaN in one of reference and "
            f"candidate only (reference {in_reference} NaN, candidate {in_candidate}): the kernel does not "
            "propagate NaN as PyTorch does")
