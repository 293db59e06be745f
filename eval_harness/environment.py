"""What the worker runs on: the device, its hardware spec, and the software versions."""

from __future__ import annotations

import logging
import platform
import subprocess

import torch

from kevolve.hardware_specs import HardwareSpec, load_spec, spec_for_device_name

from .ceilings import measure_ceilings
from .results import Environment

logger = logging.getLogger(__name__)

CPU_SPEC = "cpu_interpreter"
# With no spec for an unknown GPU, flush what the driver says the L2 holds, doubled.
_FALLBACK_L2_BYTES = 64 << 20


class UnknownDeviceError(ValueError):
    """A device string that torch cannot use here; the message says what is available."""


def parse_device(device: str) -> torch.device:
    try:
        parsed = torch.device(device)
    except RuntimeError as exc:
        raise UnknownDeviceError(f"{device!r} is not a device ({exc}); use cpu or cuda:N") from None
    if parsed.type == "cpu":
        return parsed
    if parsed.type != "cuda":
        raise UnknownDeviceError(f"device type {parsed.type!r} is not supported; use cpu or cuda:N")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = parsed.index or 0
    if index >= count:
        raise UnknownDeviceError(f"{device} is not available: this machine has {count} CUDA device(s)")
    return torch.device("cuda", index)


def _driver_version() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else None


def _triton_version() -> str | None:
    try:
        import triton
    except ImportError:
        return None
    return triton.__version__


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def hardware_spec_for(device: torch.device) -> HardwareSpec | None:
    if device.type == "cpu":
        return load_spec(CPU_SPEC)
    return spec_for_device_name(device_name(device))


def l2_flush_bytes(device: torch.device, spec: HardwareSpec | None) -> int:
    if spec is not None:
        return spec.l2_flush_bytes
    if device.type == "cuda":
        measured = getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 0)
        return 2 * measured if measured else _FALLBACK_L2_BYTES
    return 0


def describe(device: torch.device, spec: HardwareSpec | None) -> Environment:
    """The device and software; for a GPU without a spec, its ceilings are measured instead."""
    ceilings, note = None, None
    if spec is None:
        ceilings = measure_ceilings(device)
        note = (
            f"no hardware spec matches {device_name(device)!r}: using measured ceilings "
            f"({ceilings.copy_bandwidth_gbps:.0f} GB/s copy, {ceilings.matmul_tflops} TFLOP/s); "
            "add a YAML under hardware_specs/ for datasheet figures"
        )
        logger.warning(note)
    return Environment(
        device=str(device),
        device_name=device_name(device),
        hardware_spec=spec.name if spec else None,
        torch_version=torch.__version__,
        triton_version=_triton_version(),
        cuda_version=torch.version.cuda,
        driver_version=_driver_version() if device.type == "cuda" else None,
        python_version=platform.python_version(),
        timing_meaningful=device.type == "cuda",
        measured_ceilings=ceilings,
        note=note,
    )
