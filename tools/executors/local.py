"""The local executor: a harness worker per device of this machine (cuda:N, or cpu for Triton's interpreter)."""

from __future__ import annotations

import threading
from pathlib import Path

from kevolve.eval_harness.environment import CPU_SPEC
from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.results import Environment, EvalResult
from kevolve.eval_harness.settings import EvalSettings
from kevolve.eval_harness.worker_client import WorkerUnavailable

from .executor import Executor
from .reference import ReferenceVerdicts
from .result_cache import ResultCache
from .slots import DEVICE_STRING, DeviceSlot


class LocalSlot(DeviceSlot):
    """A device of this machine and the Evaluator that owns its worker (replaced whenever it dies)."""

    def __init__(self, evaluator: Evaluator) -> None:
        super().__init__(evaluator.device)
        self.evaluator = evaluator
        self.references = ReferenceVerdicts(evaluator)
        environment = evaluator.worker().environment
        assert environment is not None, "a started worker has reported its environment"
        # A device is the same device whichever worker serves it, so its description is kept once known.
        self._environment = environment

    @property
    def environment(self) -> Environment:
        return self._environment

    def baselines(self, problem: Problem) -> EvalResult:
        return self.references.get(problem)

    def evaluate(self, problem: Problem, source: str, *, name: str) -> EvalResult:
        return self.references.evaluate(problem, source, name=name)

    def close(self) -> None:
        self.evaluator.close()


def visible_devices(target: str) -> list[str]:
    """This machine's devices that might have the hardware spec `target`: its GPUs, and the CPU for its spec."""
    import torch

    devices = [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    return [*devices, "cpu"] if target == CPU_SPEC else devices


class LocalExecutor(Executor):
    """Devices are opened (their worker started) the first time a request may need them."""

    def __init__(
        self,
        settings: EvalSettings | None = None,
        *,
        cache: ResultCache | None = None,
        cache_dir: Path | None = None,
        use_baseline_cache: bool = True,
        artifacts_dir: Path | None = None,
    ) -> None:
        super().__init__(settings or EvalSettings(), cache=cache)
        self._cache_dir = cache_dir
        self._use_baseline_cache = use_baseline_cache
        self._artifacts_dir = artifacts_dir
        self._opened: set[str] = set()
        # Opening starts a worker (seconds): one device at a time, never under the router's lock.
        self._opening = threading.Lock()

    def _open_devices(self, target: str) -> None:
        devices = [target] if DEVICE_STRING.match(target) else visible_devices(target)
        with self._opening:
            for device in devices:
                if device in self._opened:
                    continue
                evaluator = Evaluator(device, settings=self.settings, cache_dir=self._cache_dir,
                                      use_baseline_cache=self._use_baseline_cache, artifacts_dir=self._artifacts_dir)
                try:
                    slot = LocalSlot(evaluator)
                except WorkerUnavailable:
                    evaluator.close()
                    if DEVICE_STRING.match(target):
                        raise
                    continue  # a spec target: a device that cannot serve is simply not one of its matches
                self._opened.add(device)
                self.router.add(slot)
