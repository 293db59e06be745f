"""Start, resume and answer a run: the one entry point the CLI, the chat and the tests share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.types import Command

from .approval import ApprovalDecision, ApprovalRequest, DecisionRecord, check_decision
from .context import RunContext, RunServices
from .graph import builder
from .run_directory import RunDirectory
from .state import OptimizeState, TaskSpec, initial_state

ProgressEvent = dict[str, str]
OnEvent = Callable[[ProgressEvent], None]


class NothingToDecide(LookupError):
    """A decision for a kernel that does not wait for one (never asked, or already decided)."""


class OptimizationRun:
    """One run's compiled graph over its SQLite checkpoints."""

    def __init__(self, run: RunDirectory, services: RunServices | None = None, *, library: Path | None = None) -> None:
        """Without services the run can be read (state, pending approvals) but not driven."""
        self.run = run
        self.context = RunContext(run=run, services=services, library=library) if services and library else None
        self._checkpointer = run.checkpointer()
        self.graph = builder.compile(checkpointer=self._checkpointer)

    @classmethod
    def start(cls, runs_root: Path, task: TaskSpec, services: RunServices, *, library: Path) -> OptimizationRun:
        return cls(RunDirectory.create(runs_root, task), services, library=library)

    def close(self) -> None:
        self._checkpointer.conn.close()

    def __enter__(self) -> OptimizationRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def started(self) -> bool:
        return bool(self.graph.get_state(self.run.thread_config()).values)

    def state(self) -> OptimizeState:
        return self.graph.get_state(self.run.thread_config()).values

    def finished(self) -> bool:
        snapshot = self.graph.get_state(self.run.thread_config())
        # `tasks`, not `next`: a process killed after a node's writes were saved but before the step's
        # checkpoint leaves that task out of `next` (it has its writes) although the graph has not moved on.
        return bool(snapshot.values) and not snapshot.tasks

    def pending(self) -> list[ApprovalRequest]:
        snapshot = self.graph.get_state(self.run.thread_config())
        return [ApprovalRequest.model_validate(item.value) for item in snapshot.interrupts]

    def go(self, on_event: OnEvent | None = None) -> None:
        """Runs from the start, or on from the last checkpoint, until the end or a person's turn."""
        payload: Any = None if self.started else initial_state(self.run.task())
        self._stream(payload, on_event)

    def decide(self, review_id: str, decision: ApprovalDecision, on_event: OnEvent | None = None) -> None:
        """Answers the waiting approval `review_id`, then lets the run go on (a rejection searches again).

        Raises EvidenceMismatch when `decision` does not name the kernel that waits. The run resumes with
        the request as its checkpoint holds it: the approve node writes that request's source.
        """
        request = next((item for item in self.pending() if item.review_id == review_id), None)
        if request is None:
            raise NothingToDecide(f"{review_id} is not waiting for a decision in run {self.run.run_id}")
        check_decision(request, decision)
        answer = DecisionRecord(request=request, decision=decision)
        self._stream(Command(resume=answer.model_dump(mode="json")), on_event)

    def _stream(self, payload: Any, on_event: OnEvent | None) -> None:
        if self.context is None:
            raise RuntimeError("this run was opened read-only (no services, no library)")
        for mode, chunk in self.graph.stream(
            payload, self.run.thread_config(), context=self.context, stream_mode=["custom", "updates"]
        ):
            if mode == "custom" and on_event is not None:
                on_event(chunk)
