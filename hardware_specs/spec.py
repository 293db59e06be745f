"""Datasheet numbers for the devices kevolve times kernels on: rooflines and the L2 flush read them.

Each device is one YAML file beside this module, so supporting a new GPU is a data change, not a code
change. Peaks are dense (no 2:4 sparsity): the harness compares them with dense kernels.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from importlib import resources
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from .dtypes import DType

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:_[a-z0-9]+)*$")]


class Vendor(StrEnum):
    NVIDIA = "nvidia"
    AMD = "amd"
    CPU = "cpu"


class UnknownHardwareSpec(LookupError):
    """No YAML spec carries the requested name."""


class AmbiguousHardwareSpec(LookupError):
    """Two specs match a device name equally well: their patterns must be made more specific."""


class _Strict(BaseModel):
    # Frozen because specs are cached and shared; extra="forbid" so a misspelt YAML key fails loudly
    # instead of silently leaving a field at its default.
    model_config = ConfigDict(frozen=True, extra="forbid")


class PeakThroughput(_Strict):
    """Dense peak throughput per dtype, in TFLOP/s (TOP/s for int8). A dtype left out has no peak listed."""

    tensor_tflops: dict[DType, PositiveFloat] = Field(default_factory=dict)
    vector_tflops: dict[DType, PositiveFloat] = Field(min_length=1)


class HardwareSpec(_Strict):
    name: Slug
    display_name: str = Field(min_length=1)
    vendor: Vendor
    architecture: Slug
    compute_capability: str | None = Field(default=None, pattern=r"^\d+\.\d+$")
    gfx_target: str | None = Field(default=None, pattern=r"^gfx[0-9a-f]+$")
    # Regexes searched case-insensitively in torch.cuda.get_device_name(); a plain substring is a regex.
    device_name_patterns: list[str] = Field(default_factory=list)
    # False where the numbers are placeholders (the Triton interpreter): no speedup may be read from them.
    timing_meaningful: bool = True
    sm_count: PositiveInt  # SMs on NVIDIA, CUs on AMD
    warp_size: PositiveInt
    peak_dense: PeakThroughput
    memory_bandwidth_gbps: PositiveFloat  # GB/s, 1e9 bytes
    # The vendor's nominal capacity; the runtime reports a little less usable memory.
    memory_gib: PositiveFloat
    # The largest cache that keeps data between kernel launches (L2 on NVIDIA, Infinity Cache on CDNA3):
    # the one a timing trial must find cold.
    l2_cache_bytes: PositiveInt
    shared_memory_per_sm_bytes: PositiveInt
    shared_memory_per_block_bytes: PositiveInt  # the opt-in maximum, not the 48 KiB default
    registers_per_sm: PositiveInt  # 32-bit registers
    max_threads_per_sm: PositiveInt
    clock_notes: str | None = None
    sources: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)

    @field_validator("device_name_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"device name pattern {pattern!r} is not a valid regex: {exc}") from None
        return patterns

    @model_validator(mode="after")
    def _consistent(self) -> HardwareSpec:
        if self.vendor is not Vendor.CPU:
            if not self.device_name_patterns:
                raise ValueError("a GPU spec needs at least one device_name_pattern, or it can never match")
            if not self.timing_meaningful:
                raise ValueError("GPU specs time real hardware: timing_meaningful must be true")
        if self.vendor is Vendor.NVIDIA and self.compute_capability is None:
            raise ValueError("NVIDIA specs need compute_capability")
        if self.vendor is Vendor.AMD and self.gfx_target is None:
            raise ValueError("AMD specs need gfx_target")
        if self.shared_memory_per_block_bytes > self.shared_memory_per_sm_bytes:
            raise ValueError("shared_memory_per_block_bytes exceeds shared_memory_per_sm_bytes")
        return self

    def peak_tflops(self, dtype: DType | str, tensor_cores: bool) -> float:
        """Dense peak for `dtype` on tensor (matrix) units or on the vector units, in TFLOP/s."""
        table = self.peak_dense.tensor_tflops if tensor_cores else self.peak_dense.vector_tflops
        try:
            return table[DType(dtype)]
        except (KeyError, ValueError):
            units = "tensor" if tensor_cores else "vector"
            listed = ", ".join(sorted(table)) or "none"
            raise ValueError(f"{self.name} lists no {units} peak for {dtype!r} (it lists {listed})") from None

    @property
    def l2_flush_bytes(self) -> int:
        # Twice the cache: with a non-LRU replacement policy, writing exactly one cache's worth can
        # leave some of the previous trial's lines resident.
        return 2 * self.l2_cache_bytes


def _parse(text: str, origin: str) -> HardwareSpec:
    try:
        return HardwareSpec.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ValueError(f"invalid hardware spec {origin}:\n{exc}") from exc


@functools.cache
def _registry() -> dict[str, HardwareSpec]:
    specs: dict[str, HardwareSpec] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        spec = _parse(entry.read_text(encoding="utf-8"), entry.name)
        # load_spec(name) must find the file by its name, so the two may not drift apart.
        if f"{spec.name}.yaml" != entry.name:
            raise ValueError(f"{entry.name} declares name {spec.name!r}; the file must be {spec.name}.yaml")
        specs[spec.name] = spec
    return specs


def all_specs() -> list[HardwareSpec]:
    return list(_registry().values())


def load_spec(name: str) -> HardwareSpec:
    try:
        return _registry()[name]
    except KeyError:
        known = ", ".join(_registry())
        raise UnknownHardwareSpec(f"no hardware spec named {name!r}; known specs: {known}") from None


def spec_for_device_name(device_name: str) -> HardwareSpec | None:
    """The spec whose pattern matches `device_name` most specifically, or None if none matches.

    Specificity is the length of the matched text, then of the pattern: "H100 PCIe" beats "H100".
    """
    scored: list[tuple[tuple[int, int], HardwareSpec]] = []
    for spec in all_specs():
        for pattern in spec.device_name_patterns:
            match = re.search(pattern, device_name, re.IGNORECASE)
            if match:
                scored.append(((len(match.group(0)), len(pattern)), spec))
    if not scored:
        return None
    best = max(score for score, _ in scored)
    winners = sorted({spec.name for score, spec in scored if score == best})
    if len(winners) > 1:
        raise AmbiguousHardwareSpec(f"{device_name!r} matches {winners} equally well")
    return load_spec(winners[0])
