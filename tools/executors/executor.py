"""The one interface evaluation sits behind, whatever runs it: route a request to a device, remember its verdict.

An implementation says which devices it has (`DeviceSlot`s: a worker here, an actor on a cluster);
routing, load sharing and the results cache are the same for all of them.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from types import TracebackType

from kevolve.eval_harness.problem import Problem, sha256_text
from kevolve.eval_harness.results import Environment, EvalResult, EvalStatus
from kevolve.eval_harness.settings import EvalSettings

from .result_cache import ResultCache, cache_entry
from .slots import DeviceSlot, SlotRouter


class Executor(ABC):
    """Evaluations by target (a device string or a hardware spec); safe to call from many threads."""

    def __init__(self, settings: EvalSettings, *, cache: ResultCache | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.router = SlotRouter()
        # One lock per candidate in flight: a second request for the same evaluation waits for the
        # first and reads its verdict from the cache instead of running it again.
        self._same_request: dict[tuple[str, str, str], threading.Lock] = {}
        # Correct baselines by (problem, device): asking again (a planner every round) must not wait for a
        # device busy with a candidate's timing.
        self._measured: dict[tuple[str, str], EvalResult] = {}
        self._guard = threading.Lock()
        self._closed = False

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @abstractmethod
    def _open_devices(self, target: str) -> None:
        """Makes sure every device of this executor that could serve `target` has a slot in the router."""

    def _matching(self, target: str) -> list[DeviceSlot]:
        if self._closed:
            raise RuntimeError("the executor is closed")
        self._open_devices(target)
        return self.router.matching(target)

    def known_baselines(self, problem: Problem, target: str) -> EvalResult | None:
        """Correct baselines already measured on a device that serves `target`, without waiting for a device."""
        slots = self._matching(target)
        with self._guard:
            known = [self._measured[key] for slot in slots if (key := (problem.sha256, slot.label)) in self._measured]
        return known[0] if known else None

    def baselines(self, problem: Problem, target: str) -> EvalResult:
        """The reference's verdict and timings on a device that serves `target`; raises WorkerUnavailable."""
        known = self.known_baselines(problem, target)
        if known is not None:
            return known
        with self.router.acquire(target) as slot:
            result = slot.baselines(problem)
        if result.status is EvalStatus.CORRECT:
            with self._guard:
                self._measured[(problem.sha256, slot.label)] = result
        return result

    def evaluate(self, problem: Problem, target: str, source: str, *, name: str = "candidate") -> EvalResult:
        """The verdict on `source` on a device that serves `target`, from the cache when it was reached before.

        Raises WorkerUnavailable when no device serves `target`; any failure of the candidate, its
        worker or the device's actor is a result.
        """
        slots = self._matching(target)
        if self.cache is None:
            return self._run(problem, target, source, name)
        with self._request_lock(problem, target, source):
            entries = {cache_entry(problem, source, slot.environment, self.settings) for slot in slots}
            for entry in entries:
                if (cached := self.cache.get(entry)) is not None:
                    return cached
            result = self._run(problem, target, source, name)
            if result.environment is not None:
                self.cache.put(cache_entry(problem, source, result.environment, self.settings), result)
            return result

    def _run(self, problem: Problem, target: str, source: str, name: str) -> EvalResult:
        with self.router.acquire(target) as slot:
            result = slot.evaluate(problem, source, name=name)
            slot.evaluations += 1
            return result

    def _request_lock(self, problem: Problem, target: str, source: str) -> threading.Lock:
        key = (problem.sha256, target, sha256_text(source))
        with self._guard:
            return self._same_request.setdefault(key, threading.Lock())

    def environment(self, target: str) -> Environment:
        """The device and software of the first device that serves `target`."""
        return self._matching(target)[0].environment

    def close(self) -> None:
        """Stops every device's worker, waiting for evaluations in progress."""
        self._closed = True
        for slot in self.router.slots:
            with self.router.hold(slot):
                slot.close()
        if self.cache is not None:
            self.cache.close()
