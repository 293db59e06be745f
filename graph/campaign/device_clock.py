"""When each device was busy: every evaluation a campaign's runs make is timed and recorded as it ends.

The campaign's problems share one evaluation pool; each run gets a `TimedPool` view of it bound to its
run id. The view admits as many evaluations of a target at once as the executor has devices serving it
(one for `cuda:0`; every GPU of that kind for a hardware-spec target on Ray), each in a numbered lane, so
a recorded interval is the time one device was held by that evaluation, never the time spent queuing
behind another problem's. An interval's device is the target, with `#lane` when several devices serve it.

The planner, coder and analyst ask for the reference's verdict before every call: once measured, the
pool answers from memory, and no lane is taken or interval recorded, so an LLM call of one problem
overlaps another problem's evaluation instead of waiting for it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.results import Environment, EvalResult
from kevolve.tools.evaluation_pool import EvaluationPool

from .store import EvaluationInterval

Record = Callable[[EvaluationInterval], None]
BASELINES_EVALUATION = "baselines"  # the name an interval of the reference's own measurement is recorded under


class DeviceClock:
    """The shared pool, a lock per device, and where intervals go."""

    def __init__(self, pool: EvaluationPool, record: Record) -> None:
        self.pool = pool
        self._record = record
        self._lanes: dict[str, tuple[queue.SimpleQueue[int], int]] = {}
        self._guard = threading.Lock()

    def _lanes_of(self, target: str) -> tuple[queue.SimpleQueue[int], int]:
        """The free lanes of `target` and how many there are in all."""
        with self._guard:
            if target not in self._lanes:
                self.pool.environment(target)  # opens every device that serves the target
                count = max(len(self.pool.executor.router.matching(target)), 1)
                lanes: queue.SimpleQueue[int] = queue.SimpleQueue()
                for lane in range(count):
                    lanes.put(lane)
                self._lanes[target] = (lanes, count)
            return self._lanes[target]

    def timed(self, *, run_id: str, device: str, name: str, work: Callable[[], Any]) -> Any:
        lanes, count = self._lanes_of(device)
        lane = lanes.get()
        started = time.time()
        try:
            return work()
        finally:
            self._record(EvaluationInterval(run_id=run_id, device=device if count == 1 else f"{device}#{lane}",
                                            name=name, started_at=started, ended_at=time.time()))
            lanes.put(lane)

    def reference(self, problem: Problem, device: str, *, run_id: str) -> EvalResult:
        known = self.pool.known_baselines(problem, device)
        if known is not None:
            return known
        return self.timed(run_id=run_id, device=device, name=BASELINES_EVALUATION,
                          work=lambda: self.pool.baselines(problem, device))

    def for_run(self, run_id: str) -> TimedPool:
        return TimedPool(self, run_id)


class TimedPool:
    """What a run's nodes call as their evaluation pool (the same methods as EvaluationPool)."""

    def __init__(self, clock: DeviceClock, run_id: str) -> None:
        self._clock = clock
        self._run_id = run_id
        self.settings = clock.pool.settings

    def evaluate(self, problem: Problem, device: str, source: str, *, name: str = "candidate") -> EvalResult:
        return self._clock.timed(run_id=self._run_id, device=device, name=name,
                                 work=lambda: self._clock.pool.evaluate(problem, device, source, name=name))

    def baselines(self, problem: Problem, device: str) -> EvalResult:
        return self._clock.reference(problem, device, run_id=self._run_id)

    def environment(self, device: str) -> Environment:
        return self._clock.pool.environment(device)

    def close(self) -> None:
        """The shared pool outlives a run: the campaign closes it."""


def busy_seconds(intervals: Iterable[EvaluationInterval]) -> float:
    """The length of the union of the intervals: time during which at least one of them ran."""
    total, end = 0.0, None
    start = None
    for interval in sorted(intervals, key=lambda item: item.started_at):
        if end is None or interval.started_at > end:
            if end is not None:
                total += end - start
            start, end = interval.started_at, interval.ended_at
        else:
            end = max(end, interval.ended_at)
    if end is not None:
        total += end - start
    return total


def busy_by_device(intervals: Iterable[EvaluationInterval]) -> dict[str, float]:
    grouped: dict[str, list[EvaluationInterval]] = defaultdict(list)
    for interval in intervals:
        grouped[interval.device].append(interval)
    return {device: busy_seconds(items) for device, items in grouped.items()}
