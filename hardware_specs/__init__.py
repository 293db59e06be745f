"""Per-device datasheet numbers (one YAML file per device) and the lookups the harness uses, and
the hardware documents the knowledge base is built from (`documents/`)."""

from pathlib import Path

from .spec import (
    AmbiguousHardwareSpec,
    DType,
    HardwareSpec,
    PeakThroughput,
    UnknownHardwareSpec,
    Vendor,
    all_specs,
    load_spec,
    spec_for_device_name,
)

DOCUMENTS_DIR = Path(__file__).resolve().parent / "documents"

__all__ = [
    "DOCUMENTS_DIR",
    "AmbiguousHardwareSpec",
    "DType",
    "HardwareSpec",
    "PeakThroughput",
    "UnknownHardwareSpec",
    "Vendor",
    "all_specs",
    "load_spec",
    "spec_for_device_name",
]
