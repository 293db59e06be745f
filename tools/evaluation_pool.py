"""The evaluators a run shares among its agents and searches: one worker per device, one evaluation at a time on each.

Two evaluations on one device at once would slow each other down and both timings would be wrong,
so each device has a lock that an evaluation holds from its first request to its verdict; devices
run in parallel. The reference's timings are measured (or read from the disk cache) once per problem
and device, and every later candidate on that device is compared with those same figures.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.problem import Problem, sha256_text
from kevolve.eval_harness.results import Environment, EvalResult, EvalStatus
from kevolve.eval_harness.settings import EvalSettings


@dataclass
class _DeviceSlot:
    evaluator: Evaluator
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The reference's verdict per (problem name, source hash); read and written only under `lock`.
    references: dict[tuple[str, str], EvalResult] = field(default_factory=dict)
    # A device is the same device whichever worker serves it, so its description is kept once known.
    environment: Environment | None = None


class EvaluationPool:
    """Evaluators by device string, created on first use; safe to call from many threads."""

    def __init__(
        self,
        settings: EvalSettings | None = None,
        *,
        cache_dir: Path | None = None,
        use_baseline_cache: bool = True,
        artifacts_dir: Path | None = None,
    ) -> None:
        self.settings = settings or EvalSettings()
        self._cache_dir = cache_dir
        self._use_baseline_cache = use_baseline_cache
        self._artifacts_dir = artifacts_dir
        self._slots: dict[str, _DeviceSlot] = {}
        # Guards `_slots` and `_closed` only; never held while a worker runs, so devices do not wait on each other.
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> EvaluationPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _slot(self, device: str) -> _DeviceSlot:
        with self._lock:
            if self._closed:
                raise RuntimeError("the evaluation pool is closed")
            if device not in self._slots:
                evaluator = Evaluator(device, settings=self.settings, cache_dir=self._cache_dir,
                                      use_baseline_cache=self._use_baseline_cache, artifacts_dir=self._artifacts_dir)
                self._slots[device] = _DeviceSlot(evaluator)
            return self._slots[device]

    @staticmethod
    def _reference(slot: _DeviceSlot, problem: Problem) -> EvalResult:
        """The caller holds `slot.lock`."""
        key = (problem.name, problem.sha256)
        if key not in slot.references:
            result = slot.evaluator.baselines(problem)
            # A failed reference is not kept: a timeout or a lost worker may not happen on the next try.
            if result.status is not EvalStatus.CORRECT:
                return result
            slot.references[key] = result
        return slot.references[key]

    def baselines(self, problem: Problem, device: str) -> EvalResult:
        """The reference's verdict and timings on `device`; raises WorkerUnavailable for a device that cannot serve."""
        slot = self._slot(device)
        with slot.lock:
            return self._reference(slot, problem)

    def evaluate(self, problem: Problem, device: str, source: str, *, name: str = "candidate") -> EvalResult:
        """The verdict on `source` against the problem's shared baselines; raises WorkerUnavailable as `baselines`."""
        slot = self._slot(device)
        with slot.lock:
            reference = self._reference(slot, problem)
            if reference.status is not EvalStatus.CORRECT:
                # As Evaluator.evaluate does: without a working reference there is nothing to judge against.
                return reference.model_copy(update={"candidate_sha256": sha256_text(source)})
            return slot.evaluator.evaluate(problem, source, name=name, baselines=reference.baselines)

    def environment(self, device: str) -> Environment:
        """The device and software a worker on `device` reports (starting one if none ran yet)."""
        slot = self._slot(device)
        if slot.environment is None:
            with slot.lock:
                environment = slot.evaluator.worker().environment
                assert environment is not None, "a started worker has reported its environment"
                slot.environment = environment
        return slot.environment

    def close(self) -> None:
        """Stops every worker, waiting for evaluations in progress; the pool may not be used afterwards."""
        with self._lock:
            self._closed = True
            slots = list(self._slots.values())
        for slot in slots:
            with slot.lock:
                slot.evaluator.close()
