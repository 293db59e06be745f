"""Per-device datasheet numbers (one YAML file per device) and the lookups the harness uses."""

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

__all__ = [
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
