"""The campaign's loop: rounds of several problems at once, each next round to the problem it pays most to
continue, each problem stopped when its budget is spent or more rounds are not worth their cost.

Rounds run in threads (`scheduling.problems_in_flight` at once). The shared evaluation pool times one
candidate at a time on each device, so while one problem's candidate is timed, the others' LLM calls go
on. Between rounds the loop reads each problem's progress from its run, ranks the problems by the value of
another round (kevolve.graph.campaign.expectation) and hands the free slots to the highest. Budgets are
checked between rounds: the rounds in flight when one is reached finish, and may pass it by that much.

Everything the loop decides is in the store or the runs' checkpoints before it acts on it (a run's id is
stored before its folder is made), so a campaign killed at any point resumes losing at most the
candidates in flight.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from ..run_directory import new_run_id
from ..runner import ProgressEvent
from ..search_tree import StopReason
from .allocation import Step, next_step, take
from .location import CampaignPlace
from .problem_runs import open_problem_run
from .round_driver import RunPhase, advance, stop_searching
from .services import CampaignServices
from .snapshot import CampaignSnapshot, ProblemRow, gpu_seconds_by_run, problem_row, read_problem, snapshot
from .store import IntervalLog, ProblemEntry, ProblemState

logger = logging.getLogger(__name__)

REFRESH_S = 1.0
OnUpdate = Callable[[CampaignSnapshot], None]
OnProblemEvent = Callable[[str, ProgressEvent], None]

_STATE_OF_PHASE = {RunPhase.BETWEEN_ROUNDS: ProblemState.SEARCHING, RunPhase.WAITING: ProblemState.WAITING,
                   RunPhase.FINISHED: ProblemState.DONE}
_OPEN = (ProblemState.PENDING, ProblemState.SEARCHING)


class Campaign:
    def __init__(self, place: CampaignPlace, services: CampaignServices, log: IntervalLog, *, runs_root: Path,
                 library: Path, postgres_checkpoints: bool) -> None:
        self.record = place.record
        self.spec = place.record.spec
        self._store = place.store
        self._services = services
        self._log = log
        self._runs_root = runs_root
        self._library = library
        self._postgres = postgres_checkpoints
        self._entries = {entry.name: entry for entry in self._store.problems(self.record.id)}
        self._rows: dict[str, ProblemRow] = {}
        self._elapsed_s = self.record.elapsed_s
        self._clock = time.monotonic()

    def run(self, on_update: OnUpdate | None = None, on_event: OnProblemEvent | None = None) -> CampaignSnapshot:
        """Runs until every problem is done, waits for a person, or the budget is spent."""
        self._read_runs()
        in_flight: dict[Future, str] = {}
        with ThreadPoolExecutor(self.spec.scheduling.problems_in_flight, thread_name_prefix="campaign") as pool:
            while True:
                self._count_time()
                self._schedule(pool, in_flight, on_event)
                if on_update is not None:
                    on_update(self.snapshot(in_flight.values()))
                if not in_flight:
                    break
                done, _ = wait(in_flight, timeout=REFRESH_S, return_when=FIRST_COMPLETED)
                for future in done:
                    self._settle(in_flight.pop(future), future)
        self._count_time()
        return self.snapshot()

    def snapshot(self, in_flight: Iterable[str] = ()) -> CampaignSnapshot:
        intervals = self._log.all()
        gpu = gpu_seconds_by_run(intervals)
        rows = [row.model_copy(update={"gpu_s": gpu.get(row.run_id, 0.0) if row.run_id else 0.0})
                for row in self._rows.values()]
        return snapshot(self.record, rows, intervals, elapsed_s=self._elapsed_s, in_flight=in_flight)

    def _read_runs(self) -> None:
        """Each problem's progress from its run; a failed problem gets another try, a decided kernel is done."""
        for name, entry in list(self._entries.items()):
            if entry.state is ProblemState.FAILED:
                entry = self._put(entry, state=ProblemState.SEARCHING if entry.run_id else ProblemState.PENDING)
            row, reached = read_problem(entry, self._runs_root)
            self._rows[name] = row
            if reached is not None and entry.state is not ProblemState.SKIPPED:
                self._put(entry, state=_STATE_OF_PHASE[reached])

    def _schedule(self, pool: ThreadPoolExecutor, in_flight: dict[Future, str],
                  on_event: OnProblemEvent | None) -> None:
        free = self.spec.scheduling.problems_in_flight - len(in_flight)
        if free <= 0:
            return
        busy = set(in_flight.values())
        now = self.snapshot()
        rows = {row.name: row for row in now.problems}
        spent_out = now.spent.exceeds(self.spec.budget)
        steps: list[Step] = []
        for name, entry in self._entries.items():
            if name in busy or entry.state not in _OPEN:
                continue
            if entry.state is ProblemState.PENDING:
                if spent_out:
                    self._put(entry, state=ProblemState.SKIPPED, detail=f"the campaign's {spent_out} budget was spent")
                    continue
                steps.append(Step(name, entry.position, math.inf))
            else:
                steps.append(next_step(rows[name], entry.position, self.spec, spent_out=spent_out))
        for step in take(steps, free):
            entry = self._entries[step.name]
            if entry.run_id is None:
                entry = self._put(entry, run_id=new_run_id(step.name), state=ProblemState.SEARCHING)
            report = (lambda event, problem=step.name: on_event(problem, event)) if on_event else None
            in_flight[pool.submit(self._round, entry, step.stop, report)] = step.name

    def _round(self, entry: ProblemEntry, reason: StopReason | None,
               report: Callable[[ProgressEvent], None] | None) -> ProblemRow:
        """In a worker thread: one round of the problem, or its stop and approval. Touches only its run; the
        main thread records the outcome (`_settle`), and a resume reads it from the run if it never did."""
        with open_problem_run(self.record, entry, runs_root=self._runs_root, services=self._services,
                              library=self._library, postgres_checkpoints=self._postgres) as optimization:
            reached = stop_searching(optimization, reason, report) if reason else advance(optimization, report)
            return problem_row(entry.model_copy(update={"state": _STATE_OF_PHASE[reached], "detail": None}),
                               optimization, gpu_s=0.0)

    def _settle(self, name: str, future: Future) -> None:
        error = future.exception()
        if error is None:
            row: ProblemRow = future.result()
            self._rows[name] = row
            self._put(self._entries[name], state=row.state, detail=None)
            return
        logger.error("%s: its run stopped with an error", name, exc_info=error)
        entry = self._put(self._entries[name], state=ProblemState.FAILED, detail=f"{type(error).__name__}: {error}")
        self._rows[name] = self._rows[name].model_copy(update={"state": entry.state, "detail": entry.detail})

    def _put(self, entry: ProblemEntry, **changes: object) -> ProblemEntry:
        updated = entry.model_copy(update=changes)
        self._store.put_problem(self.record.id, updated)
        self._entries[entry.name] = updated
        if entry.name in self._rows:
            self._rows[entry.name] = self._rows[entry.name].model_copy(
                update={"state": updated.state, "detail": updated.detail, "run_id": updated.run_id})
        return updated

    def _count_time(self) -> None:
        now = time.monotonic()
        self._store.add_elapsed(self.record.id, now - self._clock)
        self._elapsed_s += now - self._clock
        self._clock = now
