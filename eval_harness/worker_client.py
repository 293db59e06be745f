"""The caller's side of a worker: start it, send a request, enforce limits, replace it when it dies.

Why a fresh interpreter and not `multiprocessing`'s fork: a fork inherits the caller's CUDA
context and locks; a new process has neither. It gets its own process session (so a kill reaches
everything it started), an allow-listed environment (no API keys), and only its log's tail is read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .protocol import (
    EvaluateRequest,
    LineReader,
    ProtocolError,
    ResultMessage,
    ShutdownRequest,
    StageStarted,
    WorkerReady,
    parse_reply,
    write_message,
)
from .results import Environment, ErrorKind, EvalError, Stage

logger = logging.getLogger(__name__)

_ENV_ALLOWED_NAMES = {
    "PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV",
    "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH", "LD_LIBRARY_PATH", "CC", "CXX",
    "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
}
_ENV_ALLOWED_PREFIXES = ("TRITON_", "NCCL_", "TORCH_", "NVSHMEM_", "CUBLAS_", "CUDNN_", "PYTORCH_")
_LOG_TAIL_BYTES = 8192
_POLL_SECONDS = 0.2
_TERM_GRACE_SECONDS = 3.0
READY_TIMEOUT_SECONDS = 300.0


class WorkerUnavailable(RuntimeError):
    """The worker could not start or cannot serve the device; the message says why."""


class WorkerFailure(Exception):
    """The worker died or was killed during a request; carries the classified error."""

    def __init__(self, error: EvalError) -> None:
        super().__init__(error.message)
        self.error = error


def worker_environment(device: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name in _ENV_ALLOWED_NAMES or name.startswith(_ENV_ALLOWED_PREFIXES)
    }
    env["PYTHONUNBUFFERED"] = "1"
    if device.startswith("cpu"):
        # No GPU: Triton kernels run through its interpreter, for correctness only.
        env["TRITON_INTERPRET"] = "1"
    return env


def read_log_tail(path: Path, since: int = 0, limit: int = _LOG_TAIL_BYTES) -> str:
    """The last `limit` bytes of a log written after offset `since`; "" where it cannot be read."""
    try:
        with open(path, "rb") as log:
            log.seek(max(since, os.path.getsize(path) - limit))
            return log.read(limit).decode(errors="replace")
    except OSError:
        return ""


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's whole group (its session), then SIGKILL to what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=_TERM_GRACE_SECONDS)
            break
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
    # The group may outlive its leader (a candidate's child process): end it too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class SessionRun:
    """How a command run by `run_in_session` ended."""

    returncode: int | None
    timed_out: bool
    output_tail: str


def run_in_session(
    command: Sequence[str], *, env: dict[str, str], timeout_s: float, log_path: Path,
    cwd: Path | None = None, tail_bytes: int = _LOG_TAIL_BYTES,
) -> SessionRun:
    """Runs `command` to completion in its own process session, its output going to `log_path`.

    Past `timeout_s` the whole session is killed (SIGTERM, then SIGKILL), as a worker is; only the
    log's last `tail_bytes` are read back, however much the command printed.
    """
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, cwd=cwd,
        )
    timed_out = False
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    kill_process_group(process)
    return SessionRun(process.returncode, timed_out, read_log_tail(log_path, limit=tail_bytes))


def _resident_bytes(pid: int) -> int:
    """Resident memory of the worker (Linux /proc); 0 where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class WorkerProcess:
    def __init__(self, device: str, *, host_memory_limit_bytes: int, log_dir: Path | None = None) -> None:
        self.device = device
        self.host_memory_limit_bytes = host_memory_limit_bytes
        self._log_dir = Path(log_dir or tempfile.mkdtemp(prefix="kevolve-logs-"))
        self._process: subprocess.Popen | None = None
        self._request_fd = self._reply_fd = -1
        self.environment: Environment | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Environment:
        request_read, self._request_fd = os.pipe()
        self._reply_fd, reply_write = os.pipe()
        self._log_path = self._log_dir / f"worker-{time.time_ns()}.log"
        with open(self._log_path, "wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "kevolve.eval_harness.worker", "--device", self.device,
                 "--request-fd", str(request_read), "--reply-fd", str(reply_write)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(request_read, reply_write), start_new_session=True,
                env=worker_environment(self.device),
            )
        os.close(request_read)
        os.close(reply_write)
        self._reader = LineReader(self._reply_fd)
        self._pending: list[bytes] = []
        try:
            ready = self._next_reply(READY_TIMEOUT_SECONDS, lambda: None)
        except WorkerFailure as failure:
            self.kill()
            raise WorkerUnavailable(f"the worker for {self.device} did not start: {failure.error.message}") from None
        if not isinstance(ready, WorkerReady) or ready.environment is None:
            self.kill()
            reason = ready.error if isinstance(ready, WorkerReady) else "unexpected first message"
            raise WorkerUnavailable(reason or "the worker did not report its device")
        self.environment = ready.environment
        return ready.environment

    def _log_tail(self, since: int) -> str:
        return read_log_tail(self._log_path, since)

    def _log_size(self) -> int:
        try:
            return os.path.getsize(self._log_path)
        except OSError:
            return 0

    def _death_error(self, stage: Stage, since: int) -> EvalError:
        code = None
        # Alive but with its pipe gone, a worker is no use to us any more: kill() below ends it.
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._process.wait(timeout=_TERM_GRACE_SECONDS)
        self.kill()
        how = f"killed by signal {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
        return EvalError(
            kind=ErrorKind.WORKER_CRASHED, stage=stage, message=f"the worker died ({how})",
            output_tail=self._log_tail(since),
        )

    def _next_reply(self, timeout: float, check_limits: Callable[[], EvalError | None], *,
                    stage: Stage = Stage.LOAD_PROBLEM, since: int = 0):
        deadline = time.monotonic() + timeout
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerFailure(EvalError(
                    kind=ErrorKind.TIMEOUT, stage=stage,
                    message=f"stage {stage.value} ran past its {timeout:.0f} s limit; the worker was killed",
                    output_tail=self._log_tail(since),
                ))
            readable, _, _ = select.select([self._reader], [], [], min(_POLL_SECONDS, remaining))
            if readable:
                try:
                    self._pending.extend(self._reader.read_available())
                except ProtocolError:
                    raise WorkerFailure(self._death_error(stage, since)) from None
            elif (limit_error := check_limits()) is not None:
                self.kill()
                raise WorkerFailure(limit_error)
        try:
            return parse_reply(self._pending.pop(0))
        except ProtocolError as exc:
            self.kill()
            raise WorkerFailure(EvalError(kind=ErrorKind.WORKER_CRASHED, stage=stage, message=str(exc))) from None

    def request(self, request: EvaluateRequest) -> ResultMessage:
        """Sends one request and waits for its result; raises WorkerFailure if the worker died."""
        if not self.alive:
            raise WorkerUnavailable("the worker is not running")
        since = self._log_size()
        timeouts = request.settings.timeouts
        stage = Stage.LOAD_PROBLEM

        def over_memory() -> EvalError | None:
            resident = _resident_bytes(self._process.pid)
            if resident <= request.settings.host_memory_limit_bytes:
                return None
            return EvalError(
                kind=ErrorKind.HOST_MEMORY_LIMIT, stage=stage,
                message=f"the worker used {resident / 2**30:.1f} GiB of host memory, over its "
                        f"{request.settings.host_memory_limit_bytes / 2**30:.1f} GiB limit; it was killed",
                output_tail=self._log_tail(since),
            )

        try:
            write_message(self._request_fd, request)
        except OSError:
            raise WorkerFailure(self._death_error(stage, since)) from None
        while True:
            reply = self._next_reply(timeouts.for_stage(stage), over_memory, stage=stage, since=since)
            if isinstance(reply, StageStarted):
                stage = reply.stage
            elif isinstance(reply, ResultMessage):
                if reply.worker_retiring:
                    self.kill()
                return reply

    def kill(self) -> None:
        """SIGTERM to the worker's whole process group, then SIGKILL to what is left."""
        if self._process is None:
            return
        kill_process_group(self._process)
        self._close_pipes()

    def _close_pipes(self) -> None:
        # Each fd is closed once: closing a number twice could close an unrelated, reused fd.
        for fd in (self._request_fd, self._reply_fd):
            if fd >= 0:
                os.close(fd)
        self._request_fd = self._reply_fd = -1
        self._process = None

    def close(self) -> None:
        if self.alive:
            try:
                write_message(self._request_fd, ShutdownRequest())
                self._process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
