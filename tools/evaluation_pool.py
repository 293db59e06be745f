"""The evaluators a run shares among its agents and searches, behind the configured executor.

Each device judges one candidate at a time (two timings on one device at once would disturb each
other) and measures the reference once per problem; devices run in parallel; a target may name a
hardware spec, served by every device that has it. Which devices those are, this machine's (local)
or a Ray cluster's, and where verdicts are remembered, is the executor's business (`tools/executors/`).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.results import Environment, EvalResult
from kevolve.eval_harness.settings import EvalSettings

from .executors import Executor, ExecutorSettings, ResultCacheSettings, open_executor

# Used as a library, a pool remembers nothing between runs unless asked: entry points pass the settings.
NO_RESULTS_CACHE = ExecutorSettings(results=ResultCacheSettings(enabled=False))


class EvaluationPool:
    """Evaluations by device string or hardware spec; safe to call from many threads."""

    def __init__(
        self,
        settings: EvalSettings | None = None,
        *,
        cache_dir: Path | None = None,
        use_baseline_cache: bool = True,
        artifacts_dir: Path | None = None,
        executor: ExecutorSettings = NO_RESULTS_CACHE,
    ) -> None:
        self.settings = settings or EvalSettings()
        self.executor: Executor = open_executor(executor, self.settings, cache_dir=cache_dir,
                                                use_baseline_cache=use_baseline_cache, artifacts_dir=artifacts_dir)

    def __enter__(self) -> EvaluationPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def baselines(self, problem: Problem, device: str) -> EvalResult:
        """The reference's verdict and timings on `device`; raises WorkerUnavailable for a device that cannot serve."""
        return self.executor.baselines(problem, device)

    def known_baselines(self, problem: Problem, device: str) -> EvalResult | None:
        """Baselines already measured on `device`, answered without waiting for it; None before."""
        return self.executor.known_baselines(problem, device)

    def evaluate(self, problem: Problem, device: str, source: str, *, name: str = "candidate") -> EvalResult:
        """The verdict on `source` against the problem's shared baselines; raises WorkerUnavailable as `baselines`."""
        return self.executor.evaluate(problem, device, source, name=name)

    def environment(self, device: str) -> Environment:
        """The device and software a worker on `device` reports (starting one if none ran yet)."""
        return self.executor.environment(device)

    def close(self) -> None:
        """Stops every worker, waiting for evaluations in progress; the pool may not be used afterwards."""
        self.executor.close()
