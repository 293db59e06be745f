"""The worker process: imports torch and Triton once, then evaluates request after request.

Started by `worker_client.WorkerProcess` as `python -m kevolve.eval_harness.worker`, in its own
process session, with requests and replies on private pipes (its stdout and stderr go to a log
file, so nothing a candidate prints can pass for a reply).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from . import kernel_launches
from .environment import UnknownDeviceError, describe, hardware_spec_for, l2_flush_bytes, parse_device
from .evaluation import evaluate
from .failures import candidate_failure
from .integrity import IntegritySnapshot
from .protocol import (
    EvaluateRequest,
    LineReader,
    ResultMessage,
    StageStarted,
    WorkerReady,
    read_request_blocking,
    write_message,
)
from .results import EvalError, EvalStatus, Stage
from .session import WorkerSession


def preload_compiler() -> None:
    """Runs torch.compile once on a trivial function, before the integrity snapshot.

    Dynamo wraps `torch.manual_seed`, `nn.Module.__init__` and others when it is first imported
    and first run; done later (by the torch.compile baseline) that would look like tampering.
    The eager backend keeps this to about a second: it traces but generates no code.
    """
    import torch

    torch.compile(lambda x: x + 1, backend="eager")(torch.zeros(1))


def _start_session(device_text: str, workdir: Path) -> WorkerSession:
    import torch

    device = parse_device(device_text)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    # TF32 and matmul precision are not set here: each request carries its regime, applied per evaluation.
    spec = hardware_spec_for(device)
    # Both before the integrity snapshot: the launch hook is the harness's own wrapper.
    kernel_launches.install()
    preload_compiler()
    return WorkerSession(
        device=device,
        spec=spec,
        environment=describe(device, spec),
        l2_flush_bytes=l2_flush_bytes(device, spec),
        workdir=workdir,
        integrity=IntegritySnapshot(),
    )


def _device_healthy(session: WorkerSession) -> bool:
    """After a failure on CUDA, the context may be poisoned (illegal address): then retire."""
    if session.device.type != "cuda":
        return True
    import torch

    try:
        probe = torch.ones(16, device=session.device)
        torch.cuda.synchronize(session.device)
        return bool(probe.sum().item() == 16)
    except Exception:
        return False


def _serve_one(session: WorkerSession, request: EvaluateRequest, reply_fd: int) -> bool:
    """Evaluates one request and replies; returns False when the worker must retire."""
    current = [Stage.LOAD_PROBLEM]

    def on_stage(stage: Stage) -> None:
        current[0] = stage
        write_message(reply_fd, StageStarted(stage=stage))

    try:
        result = evaluate(session, request, on_stage)
    except BaseException as exc:  # anything a candidate raises, SystemExit included, is its verdict
        failure = candidate_failure(exc, current[0])
        result = request.result(
            status=EvalStatus.ERROR,
            error=EvalError(kind=failure.kind, stage=failure.stage, message=failure.message),
            environment=session.environment,
        )
    retiring = bool(session.integrity.replaced()) or (
        result.status is EvalStatus.ERROR and not _device_healthy(session)
    )
    write_message(reply_fd, ResultMessage(result=result, worker_retiring=retiring))
    return not retiring


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kevolve-worker")
    parser.add_argument("--device", required=True)
    parser.add_argument("--request-fd", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kevolve-worker-") as workdir:
        try:
            session = _start_session(args.device, Path(workdir))
        except UnknownDeviceError as exc:
            write_message(args.reply_fd, WorkerReady(pid=os.getpid(), error=str(exc)))
            return 2
        write_message(args.reply_fd, WorkerReady(pid=os.getpid(), environment=session.environment))
        reader, pending = LineReader(args.request_fd), []
        while True:
            request = read_request_blocking(reader, pending)
            if not isinstance(request, EvaluateRequest) or not _serve_one(session, request, args.reply_fd):
                return 0


if __name__ == "__main__":
    sys.exit(main())
