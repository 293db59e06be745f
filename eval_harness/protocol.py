"""Messages between the caller and a worker: one JSON object per line over private pipes.

JSON validated by pydantic, never pickle: the worker runs untrusted code, and unpickling what it
sends would hand that code the caller's process.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .problem import Problem, sha256_text
from .results import BaselineTimings, Environment, EvalResult, EvalStatus, Stage
from .settings import EvalSettings


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True)


class EvaluateRequest(_Message):
    type: Literal["evaluate"] = "evaluate"
    problem: Problem
    candidate_source: str | None = Field(description="None: measure the baselines only")
    candidate_name: str = "candidate"
    settings: EvalSettings
    cached_baselines: BaselineTimings | None = None
    measure_baselines: bool = True
    artifacts_dir: str | None = Field(default=None, description="where full profiles go (traces)")

    def result(self, *, status: EvalStatus, **fields: Any) -> EvalResult:
        """The verdict on this request: its identity (problem, candidate, regime) plus `fields`."""
        return EvalResult(
            problem=self.problem.name,
            problem_sha256=self.problem.sha256,
            candidate_sha256=sha256_text(self.candidate_source) if self.candidate_source is not None else None,
            dtype=self.settings.dtype.value,
            math=self.settings.math,
            status=status,
            **fields,
        )


class ShutdownRequest(_Message):
    type: Literal["shutdown"] = "shutdown"


class WorkerReady(_Message):
    type: Literal["ready"] = "ready"
    pid: int
    environment: Environment | None = None
    error: str | None = Field(default=None, description="why the worker cannot serve this device")


class StageStarted(_Message):
    type: Literal["stage"] = "stage"
    stage: Stage


class ResultMessage(_Message):
    type: Literal["result"] = "result"
    result: EvalResult
    worker_retiring: bool = Field(
        default=False, description="the worker exits after this: its state can no longer be trusted"
    )


Request = Annotated[EvaluateRequest | ShutdownRequest, Field(discriminator="type")]
Reply = Annotated[WorkerReady | StageStarted | ResultMessage, Field(discriminator="type")]
REQUEST_ADAPTER: TypeAdapter[Request] = TypeAdapter(Request)
REPLY_ADAPTER: TypeAdapter[Reply] = TypeAdapter(Reply)

# Generous, but bounded: a worker that streams garbage must not exhaust the caller's memory.
MAX_MESSAGE_BYTES = 64 << 20


class ProtocolError(RuntimeError):
    """The other side sent something that is not a valid message, or closed the pipe."""


def write_message(fd: int, message: _Message) -> None:
    data = message.model_dump_json().encode() + b"\n"
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class LineReader:
    """Reads newline-terminated messages from a file descriptor, keeping partial lines."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()

    def fileno(self) -> int:
        return self.fd

    def read_available(self) -> list[bytes]:
        """Reads what is there now (call after select says readable); raises on end of stream."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise ProtocolError("the worker closed its pipe")
        self._buffer.extend(chunk)
        if len(self._buffer) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"the worker sent a message over {MAX_MESSAGE_BYTES} bytes")
        lines = self._buffer.split(b"\n")
        self._buffer = bytearray(lines.pop())
        return [line for line in lines if line]


def parse_reply(line: bytes) -> WorkerReady | StageStarted | ResultMessage:
    try:
        return REPLY_ADAPTER.validate_json(line)
    except ValueError as exc:
        raise ProtocolError(f"invalid message from the worker: {exc}") from None


def parse_request(line: bytes) -> EvaluateRequest | ShutdownRequest:
    return REQUEST_ADAPTER.validate_json(line)


def read_request_blocking(reader: LineReader, pending: list[bytes]) -> EvaluateRequest | ShutdownRequest:
    while not pending:
        pending.extend(reader.read_available())
    return parse_request(pending.pop(0))

