"""`--device` words as knowledge-base filters: spec names, short names and CUDA device names."""

from kevolve.tools.knowledge.device_filter import specs_named, with_device
from kevolve.tools.knowledge.models import SearchFilters


def _names(said: str) -> set[str]:
    return {spec.name for spec in specs_named(said)}


def test_a_device_is_named_as_elsewhere():
    assert _names("h100_sxm") == {"h100_sxm"}
    assert _names("h100") == {"h100_sxm", "h100_pcie", "h100_nvl"}
    assert _names("NVIDIA H100 80GB HBM3") == {"h100_sxm"}
    assert _names("cpu") == {"cpu_interpreter"}
    assert _names("no such gpu") == set()


def test_the_device_narrows_device_and_architecture_unless_asked_otherwise():
    narrowed = with_device(SearchFilters(), "h100_sxm")
    assert narrowed.device == ["h100_sxm"] and narrowed.architecture == ["hopper"]
    assert with_device(SearchFilters(architecture="ampere"), "h100_sxm").architecture == ["ampere"]
    assert with_device(SearchFilters(), "TPU v5").device == ["TPU v5"]
