"""Decided runs going on in the server's background threads, so a page answers while the search resumes."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kevolve.graph import review_queue
from kevolve.graph.approval import ApprovalDecision
from kevolve.graph.context import RunServices
from kevolve.graph.runner import ProgressEvent
from kevolve.graph.state import TaskSpec

logger = logging.getLogger(__name__)

EVENTS_KEPT = 40  # the page shows what the run did last, not its whole history


@dataclass
class ResumeJob:
    claim: review_queue.Claim
    decision: ApprovalDecision
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    events: deque[ProgressEvent] = field(default_factory=lambda: deque(maxlen=EVENTS_KEPT))
    error: str | None = None
    services: RunServices | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class ResumeJobs:
    """One job per decided kernel, by review id; each thread holds its run's claim until the run stops."""

    def __init__(self, *, library: Path | None, open_services: review_queue.OpenServices) -> None:
        self._library = library
        self._open_services = open_services
        self._jobs: dict[str, ResumeJob] = {}
        # Set by `stop_all`; a job whose services open only afterwards stops too (see `_open`).
        self._stopping = threading.Event()

    def start(self, claim: review_queue.Claim, decision: ApprovalDecision) -> ResumeJob:
        job = ResumeJob(claim=claim, decision=decision)
        self._jobs[claim.request.review_id] = job
        # A daemon: a server stopped mid-search must not hang on it; `stop_all` ends it cleanly first.
        job.thread = threading.Thread(target=self._resume, args=(job,), name=f"resume {claim.run.run_id}",
                                      daemon=True)
        job.thread.start()
        return job

    def get(self, review_id: str) -> ResumeJob | None:
        return self._jobs.get(review_id)

    def recent(self) -> list[ResumeJob]:
        return sorted(self._snapshot(), key=lambda job: job.started_at, reverse=True)

    def wait(self, timeout: float) -> bool:
        """Until every job is done or `timeout` seconds pass; True when they are done."""
        deadline = time.monotonic() + timeout
        for job in self._snapshot():
            if job.thread is not None:
                job.thread.join(max(deadline - time.monotonic(), 0.0))
        return not any(job.running for job in self._snapshot())

    def stop_all(self, timeout: float) -> list[str]:
        """Asks every running search to stop after its round in flight; returns the runs still going."""
        self._stopping.set()
        for job in self._snapshot():
            if job.running and job.services is not None:
                job.services.stop_requested.set()
        self.wait(timeout)
        return [job.claim.run.run_id for job in self._snapshot() if job.running]

    def _snapshot(self) -> list[ResumeJob]:
        # Request threads add jobs while others read them: iterate over a copy, never the live dict.
        return list(self._jobs.values())

    def _open(self, job: ResumeJob, task: TaskSpec) -> RunServices:
        services = self._open_services(task)
        job.services = services
        if self._stopping.is_set():
            services.stop_requested.set()
        return services

    def _resume(self, job: ResumeJob) -> None:
        with job.claim:
            try:
                review_queue.decide(job.claim, job.decision, open_services=lambda task: self._open(job, task),
                                    library=self._library, on_event=job.events.append)
            except Exception as exc:
                # The thread's end: nobody above it to raise to. The page shows the error and the
                # checkpoints keep the run, which `kevolve optimize --resume` continues.
                logger.exception("resuming run %s failed", job.claim.run.run_id)
                job.error = f"{type(exc).__name__}: {exc}"
