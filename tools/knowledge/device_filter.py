"""A `--device` word as knowledge-base filters: the hardware specs it names, and their architectures.

Learned entries record a device by its hardware spec's name (h100_sxm); people name devices as they
do elsewhere: a spec name, a short name (h100, every H100 spec), a CUDA device name (NVIDIA H100 80GB
HBM3), cpu, or cuda:N for a GPU of this machine.
"""

from __future__ import annotations

import re

from kevolve.hardware_specs import HardwareSpec, all_specs, spec_for_device_name
from kevolve.hardware_specs.spec import AmbiguousHardwareSpec

from .models import SearchFilters

_CUDA = re.compile(r"^cuda(:\d+)?$")
_CPU_SPEC = "cpu_interpreter"


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _local_device_name(device: str) -> str:
    import torch  # only for cuda:N, which asks this machine's driver

    if not torch.cuda.is_available():
        return device
    return torch.cuda.get_device_name(torch.device(device))


def specs_named(said: str) -> list[HardwareSpec]:
    """The specs `said` names, most specific first: an exact spec name or device name alone, else every
    spec whose name or display name contains it (letters and digits only, case ignored)."""
    if said.strip().lower() == "cpu":
        said = _CPU_SPEC
    elif _CUDA.match(said.strip().lower()):
        said = _local_device_name(said.strip().lower())
    specs = all_specs()
    exact = [spec for spec in specs if spec.name == said]
    if exact:
        return exact
    try:
        by_device_name = spec_for_device_name(said)
    except AmbiguousHardwareSpec:
        by_device_name = None
    if by_device_name is not None:
        return [by_device_name]
    key = _key(said)
    return [spec for spec in specs if key and (key in _key(spec.name) or key in _key(spec.display_name))]


def with_device(filters: SearchFilters, said: str) -> SearchFilters:
    """`filters` narrowed to the device `said`: passages recorded on any spec it names (or under the word
    itself), and, unless an architecture is already asked for, written for those specs' architectures."""
    specs = specs_named(said)
    update: dict[str, list[str]] = {"device": list(dict.fromkeys([said, *(spec.name for spec in specs)]))}
    if specs and filters.architecture is None:
        update["architecture"] = list(dict.fromkeys(spec.architecture for spec in specs))
    return filters.model_copy(update=update)
