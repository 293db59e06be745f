from pathlib import Path

import pytest
import torch
import yaml
from pydantic import ValidationError

from kevolve.eval_harness.precision import MathMode, Precision
from kevolve.hardware_specs import (
    AmbiguousHardwareSpec,
    DType,
    HardwareSpec,
    UnknownHardwareSpec,
    Vendor,
    all_specs,
    load_spec,
    spec_for_device_name,
)
from kevolve.hardware_specs import spec as spec_module

SPEC_DIR = Path(spec_module.__file__).parent
YAML_FILES = sorted(SPEC_DIR.glob("*.yaml"))


def _raw(name: str) -> dict:
    return yaml.safe_load((SPEC_DIR / f"{name}.yaml").read_text())


def test_the_expected_devices_ship():
    names = {spec.name for spec in all_specs()}
    assert {"h100_sxm", "h100_pcie", "h200", "a100_80gb", "l40s", "mi300x", "cpu_interpreter"} <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.stem)
def test_every_yaml_validates_and_is_named_after_its_file(path: Path):
    spec = HardwareSpec.model_validate(yaml.safe_load(path.read_text()))
    assert spec.name == path.stem
    assert spec.sources


def test_all_specs_reads_every_yaml_and_names_are_unique():
    names = [spec.name for spec in all_specs()]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(path.stem for path in YAML_FILES)


def test_gpu_specs_are_timed_and_the_interpreter_is_not():
    for spec in all_specs():
        if spec.vendor is Vendor.CPU:
            assert spec.timing_meaningful is False
            assert spec.device_name_patterns == []
        else:
            assert spec.timing_meaningful is True
            assert spec.device_name_patterns


@pytest.mark.parametrize(
    ("device_name", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", "h100_sxm"),
        ("NVIDIA H100 PCIe", "h100_pcie"),
        ("NVIDIA H100 NVL", "h100_nvl"),
        ("NVIDIA H200", "h200"),
        ("NVIDIA A100-SXM4-80GB", "a100_80gb"),
        ("NVIDIA A100-SXM-80GB", "a100_80gb"),
        ("NVIDIA L40S", "l40s"),
        ("AMD Instinct MI300X", "mi300x"),
        ("amd instinct mi300x", "mi300x"),
    ],
)
def test_spec_for_device_name_picks_the_right_part(device_name: str, expected: str):
    spec = spec_for_device_name(device_name)
    assert spec is not None
    assert spec.name == expected


@pytest.mark.parametrize(
    "device_name",
    [
        "Some Unknown GPU",
        "NVIDIA H200 NVL",  # lower-clocked PCIe part: must not borrow the SXM's peaks
        "NVIDIA GH200 480GB",  # Grace Hopper, not an H200
        "NVIDIA L40",  # the plain L40 is not an L40S
        "NVIDIA A100 80GB PCIe",
        "NVIDIA A100-SXM4-40GB",
        "",
    ],
)
def test_spec_for_device_name_returns_none_for_parts_without_a_spec(device_name: str):
    assert spec_for_device_name(device_name) is None


def test_the_longest_match_wins(monkeypatch: pytest.MonkeyPatch):
    generic = load_spec("h100_sxm").model_copy(update={"name": "generic", "device_name_patterns": ["H100"]})
    specific = load_spec("h100_pcie")
    monkeypatch.setattr(spec_module, "all_specs", lambda: [generic, specific])
    monkeypatch.setattr(spec_module, "load_spec", {"generic": generic, "h100_pcie": specific}.get)
    assert spec_for_device_name("NVIDIA H100 PCIe").name == "h100_pcie"
    assert spec_for_device_name("NVIDIA H100 SXM5").name == "generic"


def test_h100_sxm_datasheet_numbers_and_helpers():
    spec = load_spec("h100_sxm")
    assert spec.sm_count == 132
    assert spec.memory_bandwidth_gbps == 3350
    assert spec.peak_tflops(DType.BFLOAT16, tensor_cores=True) == pytest.approx(989.4)
    assert spec.peak_tflops("fp8", tensor_cores=True) == pytest.approx(1978.9)
    assert spec.peak_tflops("fp32", tensor_cores=False) == pytest.approx(67)
    assert spec.peak_tflops("fp64", tensor_cores=True) == pytest.approx(67)
    assert spec.l2_flush_bytes == 2 * 50 * 1024 * 1024


def test_h200_shares_h100_sxm_compute_with_more_bandwidth():
    h100, h200 = load_spec("h100_sxm"), load_spec("h200")
    assert h200.peak_dense == h100.peak_dense
    assert h200.sm_count == h100.sm_count
    assert h200.memory_bandwidth_gbps > h100.memory_bandwidth_gbps


def test_mi300x_flushes_the_infinity_cache():
    spec = load_spec("mi300x")
    assert spec.warp_size == 64
    assert spec.l2_cache_bytes == 256 * 1024 * 1024
    assert spec.l2_flush_bytes == 512 * 1024 * 1024


def test_peak_tflops_rejects_a_dtype_the_spec_does_not_list():
    with pytest.raises(ValueError, match="fp8"):
        load_spec("a100_80gb").peak_tflops("fp8", tensor_cores=True)
    with pytest.raises(ValueError, match="fp4"):
        load_spec("h100_sxm").peak_tflops("fp4", tensor_cores=True)


def test_negative_bandwidth_is_rejected():
    raw = _raw("h100_sxm") | {"memory_bandwidth_gbps": -3350}
    with pytest.raises(ValidationError, match="memory_bandwidth_gbps"):
        HardwareSpec.model_validate(raw)


def test_unknown_key_is_rejected():
    raw = _raw("h100_sxm") | {"memory_bandwith_gbps": 3350}
    with pytest.raises(ValidationError, match="memory_bandwith_gbps"):
        HardwareSpec.model_validate(raw)


def test_unknown_key_in_nested_peaks_is_rejected():
    raw = _raw("h100_sxm")
    raw["peak_dense"]["tensor_tflops"]["fp16_sparse"] = 1978.8
    with pytest.raises(ValidationError, match="fp16_sparse"):
        HardwareSpec.model_validate(raw)


@pytest.mark.parametrize(
    "change",
    [
        {"device_name_patterns": []},
        {"timing_meaningful": False},
        {"compute_capability": None},
        {"shared_memory_per_block_bytes": 300_000},
        {"device_name_patterns": ["H100 ("]},
        {"sources": []},
        {"name": "H100 SXM"},
    ],
    ids=str,
)
def test_inconsistent_gpu_specs_are_rejected(change: dict):
    with pytest.raises(ValidationError):
        HardwareSpec.model_validate(_raw("h100_sxm") | change)


def test_specs_are_frozen():
    spec = load_spec("h100_sxm")
    with pytest.raises(ValidationError):
        spec.sm_count = 1


def test_load_spec_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownHardwareSpec) as excinfo:
        load_spec("b200")
    message = str(excinfo.value)
    assert "'b200'" in message
    for spec in all_specs():
        assert spec.name in message


def test_an_exact_tie_between_two_specs_is_an_error(monkeypatch: pytest.MonkeyPatch):
    first = load_spec("h100_sxm").model_copy(update={"device_name_patterns": ["H100"]})
    second = load_spec("h100_pcie").model_copy(update={"device_name_patterns": ["H100"]})
    monkeypatch.setattr(spec_module, "all_specs", lambda: [first, second])
    with pytest.raises(AmbiguousHardwareSpec, match="h100_pcie"):
        spec_for_device_name("NVIDIA H100")


def test_one_dtype_enum_names_a_regime_and_a_datasheet_format():
    assert DType("bf16") is DType("bfloat16") is DType.BFLOAT16  # the spec files' short names read as the same member
    assert getattr(torch, DType.FLOAT16.value) is torch.float16
    with pytest.raises(ValidationError, match="not int8"):
        MathMode(precision=Precision.EXACT, dtype=DType.INT8, cudnn_tf32=False, matmul_precision="highest")
