"""One evaluation inside the worker: load, check, time, compare. Stages report as they start."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from kevolve.hardware_specs import HardwareSpec

from .compare import compare_timings
from .correctness import run_correctness
from .failures import StageFailure, candidate_failure
from .instances import LoadedProblem, ProblemInstance, call_model, load_candidate_class
from .integrity import IntegritySnapshot
from .problem import Problem, sha256_text
from .protocol import EvaluateRequest
from .results import (
    BaselineTimings,
    Environment,
    ErrorKind,
    EvalError,
    EvalResult,
    EvalStatus,
    Stage,
    TimingStats,
)
from .settings import EvalSettings
from .tensors import tensor_bytes
from .timing import time_call

# Host-clock time this far above the event time means work ran outside the timed stream.
_OFF_STREAM_RATIO = 1.5
_OFF_STREAM_SLACK_MS = 0.05
_TRIAL_SEED_STRIDE = 7919


@dataclass
class WorkerSession:
    """What a worker keeps between evaluations: device facts, loaded problems, baselines."""

    device: torch.device
    spec: HardwareSpec | None
    environment: Environment
    l2_flush_bytes: int
    workdir: Path
    integrity: IntegritySnapshot
    problems: dict[tuple[str, str], LoadedProblem] = field(default_factory=dict)
    baselines: dict[tuple[str, str], BaselineTimings] = field(default_factory=dict)

    def loaded(self, problem: Problem, settings: EvalSettings) -> LoadedProblem:
        key = (problem.sha256, settings.dtype.value)
        if key not in self.problems:
            self.problems[key] = LoadedProblem(
                problem, self.device, getattr(torch, settings.dtype.value), self.workdir
            )
        return self.problems[key]

    @property
    def on_cpu(self) -> bool:
        return self.device.type == "cpu"


class _Clock:
    def __init__(self, on_stage: Callable[[Stage], None]) -> None:
        self.on_stage = on_stage
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, stage: Stage):
        self.on_stage(stage)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage.value] = self.seconds.get(stage.value, 0.0) + time.perf_counter() - started


def _input_sets(instance: ProblemInstance, base_seed: int, settings: EvalSettings) -> list[list]:
    first = instance.inputs(base_seed)
    per_set = max(tensor_bytes(first), 1)
    count = max(1, min(settings.timing.input_sets, settings.timing.input_set_budget_bytes // per_set))
    return [first, *(instance.inputs(base_seed + i) for i in range(1, count))]


def _time_model(session: WorkerSession, model, sets: list[list], settings: EvalSettings) -> TimingStats:
    return time_call(
        lambda inputs: call_model(model, inputs),
        sets,
        settings.timing,
        device=session.device,
        l2_flush_bytes=session.l2_flush_bytes,
    )


def measure_baselines(session: WorkerSession, instance: ProblemInstance, settings: EvalSettings, seed: int):
    reference = instance.reference(seed)
    sets = _input_sets(instance, seed, settings)
    eager = _time_model(session, reference, sets, settings)
    if session.on_cpu:
        return BaselineTimings(eager=eager, compile_skipped_reason="CPU timings are not meaningful")
    if not settings.measure_compile_baseline:
        return BaselineTimings(eager=eager, compile_skipped_reason="disabled by settings")
    try:
        compiled = _time_model(session, torch.compile(reference), sets, settings)
    except Exception as exc:  # a reference torch.compile cannot handle is a fact, not a failure
        return BaselineTimings(eager=eager, compile_skipped_reason=f"torch.compile failed: {exc!s:.500}")
    return BaselineTimings(eager=eager, compiled=compiled)


def _flags(timing: TimingStats) -> list[str]:
    flags = []
    if timing.wall_median_ms is not None and timing.wall_median_ms > (
        _OFF_STREAM_RATIO * timing.median_ms + _OFF_STREAM_SLACK_MS
    ):
        flags.append(
            f"off_stream_work: host clock {timing.wall_median_ms:.3f} ms vs events {timing.median_ms:.3f} ms"
        )
    return flags


def evaluate(session: WorkerSession, request: EvaluateRequest, on_stage: Callable[[Stage], None]) -> EvalResult:
    settings = request.settings
    seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31 - 1)
    clock = _Clock(on_stage)
    started = time.perf_counter()
    partial: dict = {}
    base = {
        "problem": request.problem.name,
        "problem_sha256": request.problem.sha256,
        "candidate_sha256": None,
        "dtype": settings.dtype.value,
        "environment": session.environment,
    }
    if request.candidate_source is not None:
        base["candidate_sha256"] = sha256_text(request.candidate_source)
    # A baselines-only request that ran through is "correct": the reference loaded, ran and was timed.
    status, error = EvalStatus.CORRECT, None
    try:
        _run_stages(session, request, seed, clock, partial)
    except StageFailure as failure:
        status, error = failure.status, EvalError(kind=failure.kind, stage=failure.stage, message=failure.message)
        if failure.correctness is not None:
            partial["correctness"] = failure.correctness
    replaced = session.integrity.replaced()
    if replaced:
        status = EvalStatus.ERROR
        error = EvalError(
            kind=ErrorKind.HARNESS_TAMPERED,
            stage=Stage.CORRECTNESS,
            message=f"the candidate replaced {', '.join(replaced[:10])}",
        )
        partial.pop("comparisons", None)
    return EvalResult(
        **base,
        **partial,
        status=status,
        error=error,
        stage_seconds=clock.seconds,
        worker_seconds=time.perf_counter() - started,
    )


def _run_stages(session: WorkerSession, request: EvaluateRequest, seed: int, clock: _Clock, out: dict) -> None:
    settings, problem = request.settings, request.problem
    with clock.stage(Stage.LOAD_PROBLEM):
        loaded = session.loaded(problem, settings)
        primary = problem.primary_config(on_cpu=session.on_cpu)
        instance = loaded.instance(primary)
    baselines = request.cached_baselines
    cache_key = (problem.sha256, f"{settings.dtype.value}:{primary}")
    if baselines is None and request.measure_baselines:
        baselines = session.baselines.get(cache_key)
        if baselines is None:
            with clock.stage(Stage.BASELINE):
                baselines = measure_baselines(session, instance, settings, seed)
            session.baselines[cache_key] = baselines
    out["baselines"] = baselines
    if request.candidate_source is None:
        return
    with clock.stage(Stage.LOAD_CANDIDATE):
        candidate_cls = load_candidate_class(request.candidate_source, name=request.candidate_name,
                                             workdir=session.workdir)
    with clock.stage(Stage.CORRECTNESS):
        out["correctness"] = run_correctness(
            loaded.instance,
            candidate_cls,
            primary=primary,
            extras=problem.extra_configs(on_cpu=session.on_cpu) if settings.check_extra_configs else [],
            seeds=[seed + i * _TRIAL_SEED_STRIDE for i in range(settings.correctness_trials)],
            extra_trials=settings.extra_config_trials,
            tolerance=settings.resolved_tolerance(),
        )
    with clock.stage(Stage.TIMING):
        model = instance.candidate(candidate_cls, seed)
        try:
            timing = _time_model(session, model, _input_sets(instance, seed, settings), settings)
        except Exception as exc:
            raise candidate_failure(exc, Stage.TIMING) from exc
    out["timing"] = timing
    out["flags"] = _flags(timing)
    if session.environment.timing_meaningful and baselines is not None:
        out["comparisons"] = [
            compare_timings(name, stats, timing)
            for name, stats in (("eager", baselines.eager), ("compiled", baselines.compiled))
            if stats is not None
        ]
