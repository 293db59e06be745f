"""Targets reach devices by device string or hardware spec, and matching devices share the work."""

import threading

import pytest

from kevolve.eval_harness.results import Environment
from kevolve.eval_harness.worker_client import WorkerUnavailable
from kevolve.tools.executors.slots import DeviceSlot, SlotRouter


class FakeSlot(DeviceSlot):
    """A device known only by its description: routing never needs more."""

    def __init__(self, device, spec, *, host=None):
        super().__init__(device, host=host)
        self._environment = Environment(device=device, device_name=f"{spec} card", hardware_spec=spec,
                                        torch_version="t", triton_version="tr", cuda_version=None,
                                        driver_version=None, python_version="3", timing_meaningful=True)

    @property
    def environment(self):
        return self._environment

    def baselines(self, problem):
        raise NotImplementedError("routing tests never evaluate")

    evaluate = baselines

    def close(self):
        pass


@pytest.fixture
def mixed_cluster():
    router = SlotRouter()
    for slot in (FakeSlot("cuda:0", "h100_sxm", host="10.0.0.1"), FakeSlot("cuda:1", "h100_sxm", host="10.0.0.1"),
                 FakeSlot("cuda:0", "a100_80gb", host="10.0.0.2")):
        router.add(slot)
    return router


def test_a_spec_reaches_every_device_that_has_it_and_no_other(mixed_cluster):
    assert [s.label for s in mixed_cluster.matching("h100_sxm")] == ["10.0.0.1/cuda:0", "10.0.0.1/cuda:1"]
    assert [s.label for s in mixed_cluster.matching("a100_80gb")] == ["10.0.0.2/cuda:0"]
    assert [s.label for s in mixed_cluster.matching("10.0.0.2/cuda:0")] == ["10.0.0.2/cuda:0"]
    assert len(mixed_cluster.matching("cuda:0")) == 2, "a bare device string names that index on every host"


def test_a_target_nothing_serves_names_what_there_is(mixed_cluster):
    with pytest.raises(WorkerUnavailable, match=r"no device matches 'l40s'.*10\.0\.0\.2/cuda:0 \(a100_80gb\)"):
        mixed_cluster.matching("l40s")


def test_matching_devices_take_one_evaluation_each_and_the_next_waits(mixed_cluster):
    first = mixed_cluster.acquire("h100_sxm")
    second = mixed_cluster.acquire("h100_sxm")
    first_label, second_label = first.__enter__().label, second.__enter__().label
    assert {first_label, second_label} == {"10.0.0.1/cuda:0", "10.0.0.1/cuda:1"}

    got = []
    waiter = threading.Thread(target=lambda: got.append(mixed_cluster.acquire("h100_sxm").__enter__().label))
    waiter.start()
    waiter.join(timeout=0.5)
    assert waiter.is_alive() and not got, "both H100s are busy: the third request waits"
    with mixed_cluster.acquire("a100_80gb") as other:
        assert other.label == "10.0.0.2/cuda:0", "another spec's device is not held up"
    second.__exit__(None, None, None)
    waiter.join(timeout=5)
    assert got == [second_label], "the device just freed serves the waiting request"
    first.__exit__(None, None, None)


def test_the_device_that_judged_least_is_chosen(mixed_cluster):
    busy_one, idle_one = mixed_cluster.matching("h100_sxm")
    busy_one.evaluations = 5
    with mixed_cluster.acquire("h100_sxm") as chosen:
        assert chosen is idle_one
