"""Which kernel serves which call: one route per (device, exact verified signature), the fastest verified one.

A kernel gets a route only for signatures its correctness trials passed on, on the device kind
and device name it was verified on, in the precision regime it was verified in (the TF32 flags
its caller must have; the dtype is in the signature). Signatures the exported module could never produce (a
non-tensor input, a constructor argument that is not a plain value) get none.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.results import ArgumentSpec, InputSignature
from kevolve.eval_harness.tolerances import CUDNN_SWITCH, MATMUL_SWITCH

from .records import LibraryEntry
from .runtime import init_key


class TensorRoute(BaseModel):
    model_config = ConfigDict(frozen=True)

    shape: list[int]
    dtype: str


class Route(BaseModel):
    """One line of a problem's routes.json: calls with exactly this signature go to `kernel`."""

    model_config = ConfigDict(frozen=True)

    device_type: str
    device_name: str
    init: str = Field(description="the constructor's arguments, as the runtime's init_key writes them")
    inputs: list[TensorRoute]
    state: list[TensorRoute]
    cudnn_tf32: bool | None = Field(description="torch.backends.cudnn.allow_tf32 of the regime it was verified "
                                    "in; None where that flag governs none of the reference's operators")
    matmul_precision: str | None = Field(description="torch.get_float32_matmul_precision() of that regime; None "
                                         "where it governs none of them")
    kernel: str = Field(description="module name under the problem's kernels/ folder")
    fitness: float | None = Field(description="the slower of the two baseline speedups; None where not timed")


class Skipped(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem: str
    node_id: str | None
    reason: str


def identifier(name: str) -> str:
    """A Python identifier (and operator name) for a problem or node name."""
    ident = re.sub(r"\W+", "_", name).strip("_") or "unnamed"
    return f"p_{ident}" if ident[0].isdigit() else ident


def kernel_module_name(entry: LibraryEntry) -> str:
    return identifier(f"{entry.placement}_{entry.record.node_id}").lower()


def fitness(entry: LibraryEntry) -> float | None:
    """The speedup over the faster baseline, re-measured if the latest re-validation timed it."""
    source = entry.status if entry.status is not None and entry.status.timing_checked else entry.record
    speedups = [s for s in (source.speedup_eager, source.speedup_compiled) if s is not None]
    return min(speedups) if speedups else None


def _tensors(specs: list[ArgumentSpec]) -> list[TensorRoute] | None:
    if not all(spec.shape is not None and spec.dtype is not None for spec in specs):
        return None
    return [TensorRoute(shape=spec.shape, dtype=spec.dtype) for spec in specs]


def _init(specs: list[ArgumentSpec]) -> str | None:
    if any(spec.shape is not None or (isinstance(spec.value, str) and spec.value.startswith("<unroutable"))
           for spec in specs):
        return None
    return init_key(tuple(spec.value for spec in specs), {})


def route_for(entry: LibraryEntry, signature: InputSignature) -> Route | None:
    """The route a verified signature gives, or None when no exported module call could match it."""
    inputs, state, init = _tensors(signature.inputs), _tensors(signature.state), _init(signature.init)
    if inputs is None or not inputs or state is None or init is None:
        return None
    record = entry.record
    return Route(
        device_type=record.device.split(":")[0],
        device_name=record.device_name or "",
        init=init,
        inputs=inputs,
        state=state,
        cudnn_tf32=record.math.cudnn_tf32 if _governs(entry, CUDNN_SWITCH) else None,
        matmul_precision=record.math.matmul_precision if _governs(entry, MATMUL_SWITCH) else None,
        kernel=kernel_module_name(entry),
        fitness=fitness(entry),
    )


def _governs(entry: LibraryEntry, switch: str) -> bool:
    """Whether a caller's `switch` must match the kernel's regime: yes unless its record, or its latest
    re-validation (for a record from before regimes), knows that the reference does not depend on it."""
    switches = entry.record.reference_switches
    if switches is None and entry.status is not None:
        switches = entry.status.reference_switches
    return switches is None or switch in switches


def _rank(route: Route, approved_at: datetime) -> tuple:
    return (route.fitness is not None, route.fitness or 0.0, approved_at)


def best_routes(entries: list[LibraryEntry]) -> tuple[list[Route], list[Skipped]]:
    """For each (device, signature), the fastest kernel verified on it (newest approval breaks ties)."""
    best: dict[str, tuple[Route, datetime]] = {}
    skipped: list[Skipped] = []
    for entry in entries:
        routes = [r for r in (route_for(entry, s) for s in entry.signatures) if r is not None]
        if not routes:
            skipped.append(Skipped(problem=entry.record.problem, node_id=entry.record.node_id,
                                   reason="no routable verified signature (run `kevolve library revalidate` "
                                          "to record them for a kernel approved before signatures were kept)"))
        for route in routes:
            key = json.dumps(route.model_dump(exclude={"kernel", "fitness"}), sort_keys=True)
            if key not in best or _rank(route, entry.record.approved_at) > _rank(*best[key]):
                best[key] = (route, entry.record.approved_at)
    return [route for route, _ in best.values()], skipped
