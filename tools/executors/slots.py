"""One device an executor can evaluate on, and how a request's target picks devices.

A target is what a task names: a device string (`cuda:1`, `cpu`), a device on one host of a
cluster (`10.0.0.7/cuda:1`), or a hardware spec (`h100_sxm`), so that a candidate meant for an H100
is timed on an H100, whichever host has it. Several devices that match share the work, one
evaluation on each at a time: two timings on one device at once would disturb each other.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager

from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.results import Environment, EvalResult
from kevolve.eval_harness.worker_client import WorkerUnavailable

DEVICE_STRING = re.compile(r"^(cpu|cuda(:\d+)?)$")


class DeviceSlot(ABC):
    """A device with its own harness worker (here or in a Ray actor); used by one evaluation at a time."""

    def __init__(self, device: str, *, host: str | None = None, instance: int | None = None) -> None:
        self.device = device
        self.host = host  # None: this machine
        self.instance = instance  # tells apart several slots for one device string (CPU actors on one node)
        self.evaluations = 0  # how many candidates this device judged (cache hits never reach a slot)

    @property
    def label(self) -> str:
        """Unique in an executor: `cuda:1`, `10.0.0.7/cuda:1`, `10.0.0.7/cpu#0`."""
        located = f"{self.host}/{self.device}" if self.host else self.device
        return located if self.instance is None else f"{located}#{self.instance}"

    @property
    @abstractmethod
    def environment(self) -> Environment:
        """The device and software its worker reports; known once the slot is open."""

    def matches(self, target: str) -> bool:
        """By device, by place, by hardware spec, or by the device's own name (for a GPU no spec describes)."""
        environment = self.environment
        return target in (self.device, self.label, environment.hardware_spec, environment.device_name)

    @abstractmethod
    def baselines(self, problem: Problem) -> EvalResult:
        """The reference's verdict and timings on this device (kept per problem once correct)."""

    @abstractmethod
    def evaluate(self, problem: Problem, source: str, *, name: str) -> EvalResult:
        """The verdict on `source` against this device's baselines; failures are results, not exceptions."""

    @abstractmethod
    def close(self) -> None: ...


class SlotRouter:
    """Hands out idle devices that match a target; a caller waits while every match is busy."""

    def __init__(self) -> None:
        self._slots: list[DeviceSlot] = []
        self._busy: set[int] = set()
        self._changed = threading.Condition()

    def add(self, slot: DeviceSlot) -> None:
        with self._changed:
            self._slots.append(slot)
            self._changed.notify_all()

    @property
    def slots(self) -> list[DeviceSlot]:
        with self._changed:
            return list(self._slots)

    def matching(self, target: str) -> list[DeviceSlot]:
        """Every device that serves `target`; raises WorkerUnavailable, naming what there is, when none does."""
        slots = self.slots
        found = [slot for slot in slots if slot.matches(target)]
        if not found:
            known = ", ".join(f"{slot.label} ({slot.environment.hardware_spec or slot.environment.device_name})"
                              for slot in slots) or "none"
            raise WorkerUnavailable(f"no device matches {target!r}; the executor has: {known}")
        return found

    @contextmanager
    def acquire(self, target: str) -> Iterator[DeviceSlot]:
        """An idle device that matches `target`, held for the duration of the block."""
        with self._take(self.matching(target)) as slot:
            yield slot

    @contextmanager
    def hold(self, slot: DeviceSlot) -> Iterator[DeviceSlot]:
        """`slot` itself, once idle (to close it, say)."""
        with self._take([slot]) as held:
            yield held

    @contextmanager
    def _take(self, candidates: list[DeviceSlot]) -> Iterator[DeviceSlot]:
        with self._changed:
            while True:
                idle = [slot for slot in candidates if id(slot) not in self._busy]
                if idle:
                    # The device that judged least so far: several matching GPUs share the load evenly.
                    chosen = min(idle, key=lambda slot: slot.evaluations)
                    self._busy.add(id(chosen))
                    break
                self._changed.wait()
        try:
            yield chosen
        finally:
            with self._changed:
                self._busy.discard(id(chosen))
                self._changed.notify_all()
