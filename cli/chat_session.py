"""A conversation's state and actions: one run at a time, driven in a background thread.

The session speaks only through the `say` it is given and streams the graph's events to `on_event`,
so the terminal loop prints both and the tests capture both. It drives the same `OptimizationRun`
as `kevolve optimize` and `kevolve review`: a run started here resumes there, and the reverse.
"""

from __future__ import annotations

import getpass
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from kevolve.agents.chat import ChatAction, ChatIntent, Reading, understand, understand_offline
from kevolve.eval_harness.environment import UnknownDeviceError
from kevolve.eval_harness.precision import Precision
from kevolve.eval_harness.problem import ProblemLoadError
from kevolve.eval_harness.worker_client import WorkerUnavailable
from kevolve.graph.approval import ApprovalDecision, EvidenceMismatch
from kevolve.graph.context import RunServices
from kevolve.graph.review_queue import claim, record
from kevolve.graph.runner import NothingToDecide, OnEvent, OptimizationRun
from kevolve.graph.services import close_services
from kevolve.graph.state import OptimizeState
from kevolve.graph.summary import render_summary
from kevolve.tools.knowledge.base import KnowledgeBaseUnavailable
from kevolve.tools.llm.base import LLMUnavailable, RoleLLM, TokenUsage

from .chat_replies import HELP, describe, kernel_reply, standing
from .chat_targets import CPU_DEVICE, device_named, problem_named
from .options import UsageError

logger = logging.getLogger(__name__)

# Given a problem file and devices, a new run with its services (the CLI's opens them from its options).
class RunFactory(Protocol):
    """Starts a run of `problem` on `devices`, in `precision` (None: the session's default regime)."""

    def __call__(self, problem: Path, devices: list[str], precision: Precision | None = None) -> OptimizationRun: ...
Say = Callable[[str], None]
# Starting fails like this on what was asked or what this machine has: told to the person, not raised.
START_ERRORS = (ProblemLoadError, UnknownDeviceError, WorkerUnavailable, KnowledgeBaseUnavailable, UsageError,
                OSError)


class ChatSession:
    def __init__(self, start_run: RunFactory, *, say: Say, on_event: OnEvent, llm: RoleLLM | None = None,
                 default_device: str = CPU_DEVICE, reviewer: str | None = None) -> None:
        self._start_run = start_run
        self._say = say
        self._on_event = on_event
        self._llm = llm
        self._default_device = default_device
        self._reviewer = reviewer or getpass.getuser()
        self._thread: threading.Thread | None = None
        self._services_open = False
        self.optimization: OptimizationRun | None = None
        self.usage = TokenUsage()  # what understanding the messages cost

    @property
    def busy(self) -> bool:
        """The run's thread is searching, or carrying out a decision."""
        return self._thread is not None and self._thread.is_alive()

    def handle(self, message: str) -> bool:
        """Acts on one message; False when the person ends the conversation."""
        if not message.strip():
            return True
        intent = self._understand(message)
        for action in intent.actions:
            if action is ChatAction.QUIT:
                self.close()
                return False
            self._act(action, intent, message)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Until the run's thread is done with what it was asked; True when it is."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.busy

    def close(self) -> None:
        """Stops a searching run after its round in flight, and releases its services."""
        if self.busy:
            self._say("stopping the run after the round in flight ...")
            self._services().stop_requested.set()
            self.wait()
        self._release()

    def _understand(self, message: str) -> ChatIntent:
        context = describe(self.optimization, searching=self.busy)
        try:
            reading = understand(message, context=context, llm=self._llm)
        except LLMUnavailable as exc:
            self._say(f"the model did not answer ({exc}); I read your message by its keywords")
            reading = Reading(understand_offline(message), TokenUsage())
        self.usage += reading.usage
        if reading.held:
            said = " or ".join(f"'{action.value}'" for action in reading.held)
            self._say(f"I may have read {said} in that; it cannot be taken back, so I do it only when you say it "
                      "in those words")
        return reading.intent

    def _act(self, action: ChatAction, intent: ChatIntent, message: str) -> None:
        match action:
            case ChatAction.OPTIMIZE:
                self._optimize(intent, message)
            case ChatAction.STATUS:
                self._status()
            case ChatAction.SHOW_KERNEL:
                self._show_kernel()
            case ChatAction.STOP:
                self._stop()
            case ChatAction.APPROVE | ChatAction.REJECT:
                self._decide(intent, approved=action is ChatAction.APPROVE)
            case _:
                self._say(HELP)

    def _optimize(self, intent: ChatIntent, message: str) -> None:
        if self.busy and self.optimization is not None:
            self._say(f"run {self.optimization.run.run_id} is still going: say 'stop' first, or wait for it")
            return
        # A small model may name the problem or device in words nothing here matches; the person's own may.
        said = understand_offline(message)
        path, note = problem_named(intent.problem)
        if path is None and said.problem != intent.problem:
            path, note = problem_named(said.problem)
        self._say(note)
        if path is None:
            return
        device, note = device_named(intent.device, default=self._default_device)
        if device is None and said.device != intent.device:
            device, note = device_named(said.device, default=self._default_device)
        self._say(note)
        if device is None:
            return
        precision = intent.precision or said.precision
        self._say(f"precision: {precision.value}" if precision else "precision: the default regime")
        self._release()
        try:
            self.optimization = self._start_run(path, [device], precision)
        except START_ERRORS as exc:
            self._say(f"could not start: {exc}")
            return
        self._services_open = True
        self._say(f"run {self.optimization.run.run_id} started in {self.optimization.run.path}; "
                  "ask 'how is it going?' any time")
        self._drive(lambda run: run.go(self._on_event))

    def _state(self) -> OptimizeState | None:
        """The run's state once its first step is written (before it, only the summed channels exist)."""
        state = self.optimization.state() if self.optimization is not None else None
        return state if state and "searches" in state else None

    def _status(self) -> None:
        state = self._state()
        if self.optimization is None or state is None:
            self._say("the run is starting" if self.busy else "nothing running: say e.g. 'make the layernorm faster'")
            return
        now = "the search goes on" if self.busy else standing(self.optimization)
        self._say(render_summary(state).rstrip() + "\n\n" + now)

    def _show_kernel(self) -> None:
        state = self._state()
        if self.optimization is None or state is None:
            self._say("no kernel yet: no run has got that far")
            return
        for device, search in state["searches"].items():
            self._say(kernel_reply(self.optimization, device, search.best))

    def _stop(self) -> None:
        if not self.busy:
            self._say("nothing is searching" + (f": {standing(self.optimization)}" if self.optimization else ""))
            return
        self._services().stop_requested.set()
        self._say("stopping: each device stops after the round in flight, then its best kernel is offered for approval")

    def _decide(self, intent: ChatIntent, *, approved: bool) -> None:
        if self.busy or self.optimization is None:
            self._say("the run is still searching: nothing waits for approval yet ('stop' ends the search)"
                      if self.busy else "no run in this conversation, so nothing waits for approval")
            return
        pending = self.optimization.pending()
        if intent.device:
            device, _ = device_named(intent.device, default=self._default_device)
            pending = [request for request in pending if request.device == device]
        if len(pending) != 1:
            waiting = ", ".join(f"{r.node_id} on {r.device}" for r in pending)
            self._say(f"several kernels wait ({waiting}): name the device" if pending
                      else "no kernel waits for approval")
            return
        if not approved and not intent.comment:
            self._say("why reject it? Say 'reject it because ...': the reason guides the next rounds")
            return
        request = pending[0]
        try:  # the same lock and record as `kevolve review` and `kevolve serve`
            claimed = claim(self.optimization.run, request.review_id)
        except NothingToDecide as exc:
            self._say(str(exc))
            return
        # A rejection asks for more search: an earlier "stop" must not end it after one round.
        self._services().stop_requested.clear()
        decision = ApprovalDecision.on(request, approved=approved, reviewer=self._reviewer, comment=intent.comment)
        try:
            record(claimed, decision)
        except EvidenceMismatch as exc:
            claimed.release()
            self._say(str(exc))
            return
        self._say(f"approved {request.review_id}; it goes to the library" if approved
                  else f"rejected {request.review_id}; searching again with your reason")

        def resume(run: OptimizationRun) -> None:
            with claimed:
                run.decide(request.review_id, decision, self._on_event)

        self._drive(resume)

    def _drive(self, work: Callable[[OptimizationRun], None]) -> None:
        optimization = self.optimization
        assert optimization is not None

        def body() -> None:
            try:
                work(optimization)
            except Exception as exc:
                # Nothing above this thread would see the error: tell the person. Checkpoints keep the run.
                logger.exception("run %s failed", optimization.run.run_id)
                self._say(f"the run stopped on an error: {exc}; it is saved: "
                          f"kevolve optimize --resume {optimization.run.run_id}")
                return
            self._say(standing(optimization))
            if optimization.finished():
                self._close_services()

        self._thread = threading.Thread(target=body, name=f"run-{optimization.run.run_id}", daemon=True)
        self._thread.start()

    def _services(self) -> RunServices:
        assert self.optimization is not None and self.optimization.context is not None
        return self.optimization.context.services

    def _close_services(self) -> None:
        if self._services_open:
            self._services_open = False
            close_services(self._services())

    def _release(self) -> None:
        """Lets the current run go (it stays on disk, for `kevolve review` and `optimize --resume`)."""
        if self.optimization is None:
            return
        if self.optimization.pending():
            self._say(f"run {self.optimization.run.run_id} still waits for approval: `kevolve review` decides it")
        self._close_services()
        self.optimization.close()
        self.optimization = None
