"""Device detection: a spec when one matches, measured ceilings when none does, clear errors otherwise."""

import functools

import pytest
import torch

from kevolve.eval_harness.ceilings import measure_ceilings
from kevolve.eval_harness.environment import UnknownDeviceError, describe, hardware_spec_for, parse_device


def test_the_cpu_gets_the_interpreter_spec_and_no_meaningful_timings():
    device = parse_device("cpu")
    spec = hardware_spec_for(device)
    assert spec.name == "cpu_interpreter"
    environment = describe(device, spec)
    assert environment.timing_meaningful is False
    assert environment.measured_ceilings is None


def test_a_device_without_a_spec_gets_measured_ceilings_and_a_note(monkeypatch):
    import kevolve.eval_harness.environment as environment_module

    # Full-size probes (1 GiB copy, 8192^3 products) take a minute on a CPU; the logic is the same.
    monkeypatch.setattr(environment_module, "measure_ceilings",
                        functools.partial(measure_ceilings, copy_bytes=1 << 20, matmul_size=64))
    environment = describe(torch.device("cpu"), None)
    assert environment.measured_ceilings.copy_bandwidth_gbps > 0
    assert set(environment.measured_ceilings.matmul_tflops) == {"float32", "bfloat16"}
    assert "no hardware spec matches" in environment.note


def test_ceilings_are_positive_at_small_sizes():
    ceilings = measure_ceilings(torch.device("cpu"), copy_bytes=1 << 20, matmul_size=64)
    assert ceilings.copy_bandwidth_gbps > 0
    assert all(v > 0 for v in ceilings.matmul_tflops.values())


@pytest.mark.parametrize(("text", "message"), [("tpu", "not a device"), ("cuda:9", "not available"),
                                               ("meta", "not supported")])
def test_unknown_devices_are_refused_clearly(text, message):
    with pytest.raises(UnknownDeviceError, match=message):
        parse_device(text)
