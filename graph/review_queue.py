"""The kernels that wait for a person, across a runs folder, and the one way a decision on them is carried out.

`kevolve review` and `kevolve serve` both decide through `claim` and `decide`, so a kernel approved in
the browser and one approved on the command line take the same path. Two files in the run's folder
belong to this module:

    <run>/decide.lock       held (flock) from the claim until the resumed run stops again: another
                            process or thread that tries to decide the same run is refused
    <run>/decisions.jsonl   one DecisionRecord a line: who decided what and when, with the evidence
                            they were shown (a rejection is recorded nowhere else with its reviewer)
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import IO

from pydantic import ValidationError

from .approval import ApprovalDecision, ApprovalRequest, DecisionRecord, approved_kernel, check_decision
from .context import RunServices
from .folders import run_library
from .run_directory import CHECKPOINTS_FILE, POSTGRES_MARKER, RunDirectory, list_runs
from .runner import NothingToDecide, OnEvent, OptimizationRun
from .services import close_services
from .state import TaskSpec

LOCK_FILE = "decide.lock"
DECISIONS_FILE = "decisions.jsonl"
# `waiting` and `run_status` test the lock by taking it for an instant; a claim retries this long so
# that such a look does not pass for a decision in progress.
CLAIM_WAIT_S = 1.0

Waiting = tuple[RunDirectory, ApprovalRequest]
OpenServices = Callable[[TaskSpec], RunServices]


class DecisionBusy(NothingToDecide):
    """Another process or thread is carrying out a decision on this run right now."""


class RunUnreadable(NothingToDecide):
    """A run folder whose task, checkpoints or decisions cannot be read (a damaged copy, or one made to be
    hostile): nothing in it can be decided, and it is listed as broken, with `reason`."""

    def __init__(self, run: RunDirectory, reason: str) -> None:
        super().__init__(f"run {run.run_id} cannot be read: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class BrokenRun:
    run: RunDirectory
    reason: str


@dataclass(frozen=True)
class Queue:
    waiting: list[Waiting]
    broken: list[BrokenRun]  # runs that could not be read: listed, so that nothing hides silently


class RunStatus(StrEnum):
    RUNNING = "running"  # a decision resumed it and it has not stopped since
    WAITING = "waiting"  # a kernel waits for a person
    FINISHED = "finished"
    STOPPED = "stopped"  # neither: killed or failed mid-search; `kevolve optimize --resume` goes on


def queue(runs_root: Path) -> Queue:
    """Every kernel waiting for a decision, and every run that cannot be read; a run whose decision is being
    carried out has none waiting. One broken run hides nothing but itself."""
    found, broken = [], []
    for run in list_runs(runs_root):
        try:
            if not _locked(run):
                found += [(run, request) for request in _readable_pending(run)]
        except RunUnreadable as exc:
            broken.append(BrokenRun(run, exc.reason))
    return Queue(found, broken)


def waiting(runs_root: Path) -> list[Waiting]:
    """Every kernel waiting for a decision in the runs that can be read."""
    return queue(runs_root).waiting


def find(runs_root: Path, review_id: str) -> Waiting:
    """The one waiting kernel whose review id is `review_id` or starts with it; RunUnreadable when it would be in
    a run that cannot be read."""
    found = queue(runs_root)
    everything = found.waiting
    exact = [(run, request) for run, request in everything if request.review_id == review_id]
    matches = exact or [(run, request) for run, request in everything if request.review_id.startswith(review_id)]
    if len(matches) != 1:
        run_id = review_id.partition(":")[0]
        broken = next((item for item in found.broken if item.run.run_id == run_id), None)
        if broken is not None and not matches:
            raise RunUnreadable(broken.run, broken.reason)
        known = ", ".join(request.review_id for _, request in everything) or "none"
        problem = "matches several kernels" if matches else "is not waiting for a decision"
        unread = f"; {len(found.broken)} run(s) cannot be read" if found.broken else ""
        raise NothingToDecide(f"{review_id!r} {problem} (waiting: {known}{unread})")
    return matches[0]


def run_named(runs_root: Path, run_id: str) -> RunDirectory | None:
    """A run by its exact id, looked up among the folder's runs (never a path a caller made up)."""
    return next((run for run in list_runs(runs_root) if run.run_id == run_id), None)


def run_status(run: RunDirectory) -> tuple[RunStatus, list[ApprovalRequest]]:
    """What the run is doing, with what its checkpoints say waits (while RUNNING: the kernel being decided);
    RunUnreadable for a run that cannot be read (its task and decisions included, as `queue` judges it)."""
    with _readable(run) as optimization:
        pending = optimization.pending()
        if _locked(run):
            return RunStatus.RUNNING, pending
        if pending:
            return RunStatus.WAITING, pending
        return (RunStatus.FINISHED if optimization.finished() else RunStatus.STOPPED), []


def read_task(run: RunDirectory) -> TaskSpec:
    """The run's task; RunUnreadable when its file is missing or not a TaskSpec."""
    with _reading(run, "task.json"):
        return run.task()


def decisions(run: RunDirectory) -> dict[str, DecisionRecord]:
    """The recorded decisions by review id; a kernel decided twice (its first resume failed) shows the last.
    RunUnreadable when the file holds anything but records."""
    path = run.path / DECISIONS_FILE
    if not _regular_or_absent(run, DECISIONS_FILE):
        return {}
    with _reading(run, DECISIONS_FILE):
        records = [DecisionRecord.model_validate_json(line) for line in path.read_text().splitlines() if line]
    return {record.request.review_id: record for record in records}


@dataclass
class Claim:
    """The right to decide one waiting kernel: the run's lock, held until `release` (or the `with` ends)."""

    run: RunDirectory
    request: ApprovalRequest
    _lock: IO[str]

    def release(self) -> None:
        self._lock.close()  # closing the file drops the flock

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def claim(run: RunDirectory, review_id: str) -> Claim:
    """Takes the run's lock and checks `review_id` still waits: raises DecisionBusy or NothingToDecide."""
    lock = _open_lock(run)
    deadline = time.monotonic() + CLAIM_WAIT_S
    while not _try_lock(lock):
        if time.monotonic() > deadline:
            lock.close()
            raise DecisionBusy(f"a decision on run {run.run_id} is being carried out elsewhere")
        time.sleep(0.05)
    try:
        with _checkpoints(run) as optimization:
            request = next((item for item in optimization.pending() if item.review_id == review_id), None)
        if request is None:
            raise NothingToDecide(f"{review_id} is not waiting for a decision (already decided?)")
    except BaseException:
        lock.close()
        raise
    return Claim(run, request, lock)


def decide(claimed: Claim, decision: ApprovalDecision, *, open_services: OpenServices, library: Path | None,
           on_event: OnEvent | None = None) -> None:
    """Records the decision, then resumes the run until it ends or waits again; the caller releases the claim.
    Approved kernels go to `library`, or, when None, to the library the run started with (where kevolve made
    one: `run_library` raises UnsafeName, before anything is recorded, for a folder it did not)."""
    run = claimed.run
    task = run.task()
    library = run_library(task.sources.library, library)
    record(claimed, decision)
    services = open_services(task)
    try:
        with OptimizationRun(run, services, library=library) as optimization:
            optimization.decide(claimed.request.review_id, decision, on_event)
    finally:
        close_services(services)


def check(claimed: Claim, decision: ApprovalDecision) -> None:
    """Raises EvidenceMismatch, before anything is recorded or resumed, unless `decision` names the kernel that
    waits and (for an approval) the run's search and the harness's verified hash agree on its source."""
    check_decision(claimed.request, decision)
    if decision.approved:
        with OptimizationRun(claimed.run) as optimization:
            search = optimization.state()["searches"].get(claimed.request.device)
        approved_kernel(claimed.run, search, DecisionRecord(request=claimed.request, decision=decision))


def record(claimed: Claim, decision: ApprovalDecision) -> None:
    """Appends who decided what, and on which evidence, to the run's decisions file, once `check` passes."""
    check(claimed, decision)
    with (claimed.run.path / DECISIONS_FILE).open("a") as log:
        log.write(DecisionRecord(request=claimed.request, decision=decision).model_dump_json() + "\n")


def _readable_pending(run: RunDirectory) -> list[ApprovalRequest]:
    """What waits in `run`, once its task, checkpoints and decisions have all been read."""
    with _readable(run) as optimization:
        return optimization.pending()


@contextmanager
def _readable(run: RunDirectory) -> Iterator[OptimizationRun]:
    """The run's checkpoints, opened to read once its task and decisions have been read: RunUnreadable when any
    of the three cannot be (a run is judged readable the same way by the queue and by its status)."""
    read_task(run)
    decisions(run)
    with _checkpoints(run) as optimization:
        yield optimization


@contextmanager
def _checkpoints(run: RunDirectory) -> Iterator[OptimizationRun]:
    """The run's checkpoints, opened to read; RunUnreadable for any failure to open or read them, and when there
    are none: opening a missing SQLite file would create one, and a look at a folder must not write into it."""
    with _reading(run, "checkpoints"):
        if not _regular_or_absent(run, CHECKPOINTS_FILE) and not (run.path / POSTGRES_MARKER).is_file():
            raise RunUnreadable(run, f"it has no {CHECKPOINTS_FILE} (a folder copied without it?)")
        with OptimizationRun(run) as optimization:
            yield optimization


def _regular_or_absent(run: RunDirectory, name: str) -> bool:
    """Whether the run holds the file `name`; RunUnreadable when it is there but no regular file: reading a FIFO
    or a device (a link to /dev/zero) would wait or run for ever, and a folder is no file either."""
    path = run.path / name
    if not path.exists():
        return False
    if not path.is_file():
        raise RunUnreadable(run, f"its {name} is not a regular file")
    return True


@contextmanager
def _reading(run: RunDirectory, what: str) -> Iterator[None]:
    """Turns any failure to read `what` into RunUnreadable naming it.

    Deliberately every exception: a crafted checkpoint fails inside LangGraph's decoder and our models in
    any type (sqlite3.DatabaseError, ValueError, AttributeError, NotImplementedError were all seen), and
    the reason keeps the type and message, so nothing is hidden.
    """
    try:
        yield
    except RunUnreadable:
        raise
    except Exception as exc:
        raise RunUnreadable(run, f"its {what}: {type(exc).__name__}: {_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    """The error on one bounded line; a validation error by its fields, without pydantic's links."""
    if isinstance(exc, ValidationError):
        message = "; ".join(f"{'.'.join(map(str, error['loc'])) or 'value'}: {error['msg']}"
                            for error in exc.errors(include_url=False))
    else:
        message = str(exc)
    return " ".join(message.split())[:300]


def _locked(run: RunDirectory) -> bool:
    if not _regular_or_absent(run, LOCK_FILE):
        return False
    with _open_lock(run) as lock:
        return not _try_lock(lock)


def _open_lock(run: RunDirectory) -> IO[str]:
    # O_NOFOLLOW: a lock file that a crafted folder links elsewhere must not make us create or open that file;
    # O_NONBLOCK: nor may a FIFO in its place hold the open until something reads it.
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK
    with _reading(run, LOCK_FILE):
        descriptor = os.open(run.path / LOCK_FILE, flags, 0o644)
    return os.fdopen(descriptor, "a")


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
