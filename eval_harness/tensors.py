"""Tensor plumbing for the worker: placing inputs, fingerprints, poisoning memory, comparing outputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

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


def fingerprint(values: Sequence[Any]) -> list[bytes | None]:
    """Exact, NaN-safe digests of the tensors' bits, to prove inputs were not written to."""
    digests: list[bytes | None] = []
    for value in values:
        if not isinstance(value, torch.Tensor):
            digests.append(None)
            continue
        raw = value.detach().contiguous().reshape(-1).view(torch.uint8)
        # Two different-weighted sums of the bytes: any single changed byte changes both.
        weights = torch.arange(1, raw.numel() + 1, device=raw.device, dtype=torch.int64) % 65521
        as_int = raw.to(torch.int64)
        digests.append(
            torch.stack([as_int.sum(), (as_int * weights).sum(), torch.tensor(raw.numel(), device=raw.device)])
            .cpu()
            .numpy()
            .tobytes()
        )
    return digests


def poison_allocator(device: torch.device, budget_bytes: int) -> None:
    """Fills the caching allocator's free blocks with NaN, so outputs a kernel never writes are NaN.

    Without this, `torch.empty` can return memory still holding a previous correct result (the
    reference's, or the candidate's own from an earlier trial), and a kernel that writes nothing
    passes. Only CUDA has a caching allocator worth poisoning; CPU memory comes fresh from malloc.
    """
    if device.type != "cuda":
        return
    free_bytes, _ = torch.cuda.mem_get_info(device)
    reserved_free = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    size = min(budget_bytes, max(reserved_free, 0) + free_bytes // 4)
    if size < 4:
        return
    block = torch.empty(size // 4, dtype=torch.float32, device=device)
    block.fill_(float("nan"))
    del block


@dataclass(frozen=True)
class OutputCheck:
    """The verdict on one output set; `kind` is None when it passed."""

    kind: ErrorKind | None
    message: str
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    mismatched: int = 0
    total: int = 0


def as_output_list(output: Any) -> list[Any]:
    if isinstance(output, tuple | list):
        return list(output)
    return [output]


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


def compare_outputs(candidate: list[Any], reference: list[Any], tolerance: Tolerance) -> OutputCheck:
    structure = check_structure(candidate, reference)
    if structure is not None:
        return structure
    worst_abs, worst_rel, mismatched, total = 0.0, 0.0, 0, 0
    for index, (cand, ref) in enumerate(zip(candidate, reference, strict=True)):
        if not isinstance(ref, torch.Tensor):
            if cand != ref:
                return OutputCheck(ErrorKind.OUTPUT_MISMATCH, f"output {index} is {cand!r}, expected {ref!r}")
            continue
        cand64, ref64 = cand.detach().double(), ref.detach().double()
        total += ref64.numel()
        bad = int((~torch.isfinite(cand64) & torch.isfinite(ref64)).sum())
        if bad:
            return OutputCheck(
                ErrorKind.NON_FINITE_OUTPUT, f"output {index} has {bad} NaN/Inf elements", mismatched=bad, total=total
            )
        if ref64.numel() == 0:
            continue
        abs_err = (cand64 - ref64).abs()
        # Non-finite reference values must be matched exactly (NaN by NaN, +Inf by +Inf).
        identical = (cand64 == ref64) | (torch.isnan(ref64) & torch.isnan(cand64))
        abs_err = torch.where(identical, torch.zeros_like(abs_err), abs_err)
        rel_err = abs_err / ref64.abs().clamp_min(torch.finfo(torch.float64).tiny)
        bad_mask = ~(abs_err <= tolerance.atol + tolerance.rtol * ref64.abs())
        worst_abs = max(worst_abs, float(abs_err.nan_to_num(float("inf")).max()))
        worst_rel = max(worst_rel, float(rel_err.nan_to_num(float("inf")).max()))
        mismatched += int(bad_mask.sum())
    if mismatched:
        return OutputCheck(
            ErrorKind.OUTPUT_MISMATCH,
            f"{mismatched} of {total} elements outside atol={tolerance.atol}, rtol={tolerance.rtol}; "
            f"max abs error {worst_abs:.3g}, max rel error {worst_rel:.3g}",
            worst_abs,
            worst_rel,
            mismatched,
            total,
        )
    return OutputCheck(None, "match", worst_abs, worst_rel, 0, total)
