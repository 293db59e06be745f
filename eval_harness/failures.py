"""Failures inside the worker, classified by exception type (never by message text)."""

from __future__ import annotations

import traceback

import torch

from .extensions import build_output, describe_build_failure, first_error
from .results import CompilerDiagnostic, CorrectnessReport, ErrorKind, EvalStatus, Stage, TrialOutcome

_MAX_MESSAGE_CHARS = 4000


class StageFailure(Exception):
    """Ends an evaluation with a verdict; raised by the worker's own checks."""

    def __init__(
        self,
        kind: ErrorKind,
        stage: Stage,
        message: str,
        *,
        status: EvalStatus,
        failed_trial: TrialOutcome | None = None,
        diagnostic: CompilerDiagnostic | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.stage = stage
        self.message = message
        self.status = status
        self.failed_trial = failed_trial
        self.diagnostic = diagnostic
        self.correctness: CorrectnessReport | None = None


def _triton_compile_errors() -> tuple[type[BaseException], ...]:
    try:
        from triton.compiler.errors import CompilationError
    except ImportError:
        return ()
    return (CompilationError,)


def _exception_kind(exc: BaseException, stage: Stage) -> ErrorKind:
    if isinstance(exc, torch.OutOfMemoryError):
        return ErrorKind.DEVICE_OUT_OF_MEMORY
    if isinstance(exc, _triton_compile_errors()):
        return ErrorKind.KERNEL_COMPILE_ERROR
    if stage is Stage.LOAD_CANDIDATE:
        return ErrorKind.SYNTAX_ERROR if isinstance(exc, SyntaxError) else ErrorKind.IMPORT_ERROR
    if stage is Stage.CONSTRUCT:
        return ErrorKind.CONSTRUCTION_ERROR
    return ErrorKind.RUNTIME_ERROR


def describe_exception(exc: BaseException) -> str:
    """The exception and the innermost frames, bounded: enough for a repair prompt."""
    text = "".join(traceback.format_exception(exc, limit=-8))
    return text[-_MAX_MESSAGE_CHARS:]


def candidate_failure(exc: BaseException, stage: Stage) -> StageFailure:
    if isinstance(exc, StageFailure):
        return exc
    # A load_inline build can fail at import, in the constructor or in a lazy first forward alike.
    output = build_output(exc)
    if output is not None:
        diagnostic = first_error(output)
        return StageFailure(ErrorKind.EXTENSION_BUILD_ERROR, stage, describe_build_failure(output, diagnostic),
                            status=EvalStatus.ERROR, diagnostic=diagnostic)
    return StageFailure(_exception_kind(exc, stage), stage, describe_exception(exc), status=EvalStatus.ERROR)


def problem_failure(exc: BaseException, stage: Stage) -> StageFailure:
    """The reference, not the candidate, failed: no candidate verdict is possible."""
    return StageFailure(
        ErrorKind.PROBLEM_INVALID,
        stage,
        f"the reference problem failed: {describe_exception(exc)}",
        status=EvalStatus.ERROR,
    )
