"""Tensor plumbing for the worker: placing inputs, bit-exact input checks, poisoning memory, comparing outputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.utils._pytree as pytree

from .results import ErrorKind, Tolerance


def place(value: Any, device: torch.device, dtype: torch.dtype) -> Any:
    """Moves tensors to `device`; floating tensors also take the evaluation's dtype."""
    if isinstance(value, torch.Tensor):
        target_dtype = dtype if value.is_floating_point() else value.dtype
        return value.to(device=device, dtype=target_dtype).contiguous()
    if isinstance(value, list | tuple):
        return type(value)(place(v, device, dtype) for v in value)
    return value


def clone_all(values: Sequence[Any]) -> list[Any]:
    return [v.clone() if isinstance(v, torch.Tensor) else v for v in values]


def tensor_bytes(values: Sequence[Any]) -> int:
    return sum(v.numel() * v.element_size() for v in values if isinstance(v, torch.Tensor))


def same_bits(values: Sequence[Any], originals: Sequence[Any]) -> bool:
    """True when every tensor holds exactly the bits of its original (NaN-safe, no copies made).

    Comparing byte views instead of values makes NaN equal to itself and -0.0 differ from 0.0,
    so any write to an input shows, and the views cost no memory for multi-GB inputs.
    """
    for value, original in zip(values, originals, strict=True):
        if not isinstance(value, torch.Tensor):
            continue
        if value.shape != original.shape or value.dtype != original.dtype:
            return False
        if not torch.equal(_byte_view(value), _byte_view(original)):
            return False
    return True


def _byte_view(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().contiguous().reshape(-1).view(torch.uint8)


# The caching allocator serves requests up to 1 MiB from a pool of its own (2 MiB segments).
_SMALL_BLOCK_BYTES = 1 << 20
_SMALL_BLOCKS = 64


def poison_allocator(device: torch.device, budget_bytes: int) -> None:
    """Leaves the CUDA caching allocator holding only NaN-filled free memory.

    Without this, `torch.empty` can return a cached block still holding a correct result (the
    reference's, or the candidate's own from an earlier call on the same inputs), and a kernel
    that writes nothing passes. Allocating one big block is not enough: the allocator keeps its
    existing free blocks and would hand those out first. So the cache is emptied, then refilled
    with NaN blocks from both of its pools (many small blocks, one large one), which later
    allocations are carved from. CPU memory comes from malloc and cannot be poisoned this way;
    there, fresh inputs per trial keep stale memory from holding the right answer.
    """
    if device.type != "cuda":
        return
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    free_bytes, _ = torch.cuda.mem_get_info(device)
    size = min(budget_bytes, free_bytes // 4)
    nan = float("nan")
    blocks = [torch.empty(_SMALL_BLOCK_BYTES // 4, dtype=torch.float32, device=device) for _ in range(_SMALL_BLOCKS)]
    if size >= 4 * _SMALL_BLOCK_BYTES:
        blocks.append(torch.empty(size // 4, dtype=torch.float32, device=device))
    for block in blocks:
        block.fill_(nan)
    del blocks


def scrub(outputs: Sequence[Any], *, keep: Sequence[Any] = ()) -> None:
    """Overwrites results before the harness lets them go, so freed memory never holds an answer.

    The CUDA allocator is poisoned before each call, but CPU memory comes from malloc: a result
    freed by one trial (or by the previous evaluation, when the seed is fixed and the same inputs
    recur) can be handed, intact, to a kernel that leaves its output unwritten. Tensors sharing
    storage with `keep` (inputs, weights: an output may alias them) are left alone.
    """
    kept = {t.untyped_storage().data_ptr() for t in keep if isinstance(t, torch.Tensor)}
    with torch.no_grad():
        for tensor in outputs:
            if not isinstance(tensor, torch.Tensor) or tensor.untyped_storage().data_ptr() in kept:
                continue
            if tensor.is_floating_point() or tensor.is_complex():
                tensor.fill_(float("nan"))
            elif tensor.dtype is torch.bool:
                tensor.logical_not_()
            else:
                tensor.fill_(torch.iinfo(tensor.dtype).min)


@dataclass(frozen=True)
class OutputCheck:
    """The verdict on one output set; `kind` is None when it passed."""

    kind: ErrorKind | None
    message: str
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    mismatched: int = 0
    total: int = 0


@dataclass(frozen=True)
class OutputStructure:
    """How nested outputs are grouped (`(logits, (ctr, cvr))`), compared like a value: a candidate must group its
    outputs as the reference does, not only return the same tensors in the same order."""

    spec: str

    def __repr__(self) -> str:
        return f"outputs grouped as {self.spec}"


def as_output_list(output: Any) -> list[Any]:
    """The outputs as a flat list: a tuple or list of them, or one; nested tuples, lists and dicts are flattened
    (torch.utils._pytree), with their grouping as a last element to compare."""
    if not isinstance(output, tuple | list | dict):
        return [output]
    if isinstance(output, tuple | list) and not any(isinstance(item, tuple | list | dict) for item in output):
        return list(output)
    leaves, spec = pytree.tree_flatten(output)
    return [*leaves, OutputStructure(str(spec))]


def check_structure(candidate: list[Any], reference: list[Any]) -> OutputCheck | None:
    """Plain tensors only: a subclass could compute lazily or override comparison operators."""
    if len(candidate) != len(reference):
        return OutputCheck(
            ErrorKind.OUTPUT_STRUCTURE, f"returned {len(candidate)} outputs, the reference {len(reference)}"
        )
    for index, (cand, ref) in enumerate(zip(candidate, reference, strict=True)):
        if not isinstance(ref, torch.Tensor):
            continue
        if type(cand) is not torch.Tensor:
            return OutputCheck(
                ErrorKind.OUTPUT_STRUCTURE,
                f"output {index} is {type(cand).__name__}, expected a plain torch.Tensor",
            )
        for attribute in ("shape", "dtype", "device"):
            if getattr(cand, attribute) != getattr(ref, attribute):
                return OutputCheck(
                    ErrorKind.OUTPUT_STRUCTURE,
                    f"output {index} {attribute} is {getattr(cand, attribute)}, "
                    f"expected {getattr(ref, attribute)}",
                )
    return None


# Elements compared at a time: float64 copies of multi-GB outputs would not fit beside them.
_COMPARE_CHUNK = 1 << 25


def tolerated(cand64: torch.Tensor, ref64: torch.Tensor, tolerance: Tolerance) -> tuple[torch.Tensor, torch.Tensor]:
    """Per element, the absolute error (0 where the values are identical) and whether the tolerance admits it.
    A non-finite reference value admits exactly itself (NaN by NaN, +Inf by +Inf): `rtol * inf` would otherwise
    admit anything finite."""
    identical = (cand64 == ref64) | (torch.isnan(ref64) & torch.isnan(cand64))
    abs_err = torch.where(identical, torch.zeros_like(ref64), (cand64 - ref64).abs())
    within = identical | (torch.isfinite(ref64) & (abs_err <= tolerance.atol + tolerance.rtol * ref64.abs()))
    return abs_err, within


@dataclass
class _ErrorTally:
    worst_abs: float = 0.0
    worst_rel: float = 0.0
    mismatched: int = 0
    non_finite: int = 0
    total: int = 0

    def add(self, cand: torch.Tensor, ref: torch.Tensor, tolerance: Tolerance) -> None:
        cand64, ref64 = cand.double(), ref.double()
        self.total += ref64.numel()
        self.non_finite += int((~torch.isfinite(cand64) & torch.isfinite(ref64)).sum())
        abs_err, within = tolerated(cand64, ref64, tolerance)
        rel_err = abs_err / ref64.abs().clamp_min(torch.finfo(torch.float64).tiny)
        self.mismatched += int((~within).sum())
        self.worst_abs = max(self.worst_abs, float(abs_err.nan_to_num(float("inf")).max()))
        self.worst_rel = max(self.worst_rel, float(rel_err.nan_to_num(float("inf")).max()))


def compare_outputs(candidate: list[Any], reference: list[Any], tolerance: Tolerance) -> OutputCheck:
    structure = check_structure(candidate, reference)
    if structure is not None:
        return structure
    tally = _ErrorTally()
    for index, (cand, ref) in enumerate(zip(candidate, reference, strict=True)):
        if not isinstance(ref, torch.Tensor):
            if cand != ref:
                return OutputCheck(ErrorKind.OUTPUT_MISMATCH, f"output {index} is {cand!r}, expected {ref!r}")
            continue
        flat_cand, flat_ref = cand.detach().reshape(-1), ref.detach().reshape(-1)
        for start in range(0, flat_ref.numel(), _COMPARE_CHUNK):
            chunk = slice(start, start + _COMPARE_CHUNK)
            tally.add(flat_cand[chunk], flat_ref[chunk], tolerance)
        if tally.non_finite:
            return OutputCheck(
                ErrorKind.NON_FINITE_OUTPUT,
                f"output {index} has {tally.non_finite} NaN/Inf elements where the reference is finite",
                mismatched=tally.non_finite,
                total=tally.total,
            )
    figures = (tally.worst_abs, tally.worst_rel, tally.mismatched, tally.total)
    if tally.mismatched:
        return OutputCheck(
            ErrorKind.OUTPUT_MISMATCH,
            f"{tally.mismatched} of {tally.total} elements outside atol={tolerance.atol}, rtol={tolerance.rtol}; "
            f"max abs error {tally.worst_abs:.3g}, max rel error {tally.worst_rel:.3g}",
            *figures,
        )
    return OutputCheck(None, "match", *figures)
