"""One evaluation inside the worker: load, check, time, check again, profile, compare.

Stages report as they start, so the caller can hold each to its own time limit.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from . import dynamic_checks
from .compare import compare_timings
from .correctness import run_correctness
from .extensions import use_content_build_folder
from .failures import StageFailure, candidate_failure
from .instances import ProblemInstance, call_model, load_candidate_class
from .kernel_profile import profile_kernels
from .nan_propagation import nan_propagation_flag
from .precision import apply
from .protocol import EvaluateRequest
from .results import BaselineTimings, ErrorKind, EvalError, EvalResult, EvalStatus, Stage, TimingStats, Tolerance
from .review import review_reasons
from .roofline import percent_of_light, speed_of_light
from .session import WorkerSession
from .settings import EvalSettings
from .tensors import tensor_bytes
from .timing import time_call
from .tolerances import governing_switches, tf32_applies

# Host-clock time this far above the event time means work ran outside the timed stream.
_OFF_STREAM_RATIO = 1.5
_OFF_STREAM_SLACK_MS = 0.05


class _Seeds:
    """Disjoint seed streams per use. Facts about the reference (sanity, speed of light, baselines)
    must not share inputs with a correctness trial: on a CPU, where memory cannot be poisoned, a
    kernel that writes nothing could find the reference's freed output for those very inputs."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.facts = base + 15_485_863
        self.dynamic = base + 1
        self.timing = base + 2  # and the next few, one per rotating input set
        self.fresh = base + 104_729

    def trials(self, count: int) -> list[int]:
        return [self.base + i * 7919 for i in range(count)]


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


def _trace_file(request: EvaluateRequest, label: str) -> Path | None:
    if request.artifacts_dir is None:
        return None
    return Path(request.artifacts_dir) / f"{request.problem.name}-{label}-trace.json"


def evaluate(session: WorkerSession, request: EvaluateRequest, on_stage: Callable[[Stage], None]) -> EvalResult:
    settings = request.settings
    seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31 - 1)
    # Before anything runs: the reference, both baselines and the candidate all compute in the request's regime.
    apply(settings.math)
    clock = _Clock(on_stage)
    started = time.perf_counter()
    partial: dict[str, Any] = {}
    # A baselines-only request that ran through is "correct": the reference loaded, ran and was timed.
    status, error = EvalStatus.CORRECT, None
    try:
        _run_stages(session, request, _Seeds(seed), clock, partial)
    except StageFailure as failure:
        status, error = failure.status, EvalError(kind=failure.kind, stage=failure.stage, message=failure.message,
                                                  compiler_diagnostic=failure.diagnostic)
        if failure.correctness is not None:
            partial["correctness"] = failure.correctness
        partial.pop("comparisons", None)
    replaced = session.integrity.replaced()
    if replaced:
        status = EvalStatus.ERROR
        error = EvalError(
            kind=ErrorKind.HARNESS_TAMPERED,
            stage=Stage.CORRECTNESS,
            message=f"the candidate replaced {', '.join(replaced[:10])}",
        )
        partial.pop("comparisons", None)
    return request.result(
        environment=session.environment,
        **partial,
        status=status,
        error=error,
        stage_seconds=clock.seconds,
        worker_seconds=time.perf_counter() - started,
    )


def _reference_switches(session: WorkerSession, request: EvaluateRequest, instance: ProblemInstance,
                        seed: int) -> list[str]:
    """The regime's switches that govern the reference's operators (one profiled forward, once per problem)."""
    return session.fact("switches", request.problem, request.settings, instance.config, lambda: governing_switches(
        dynamic_checks.aten_ops(instance.reference(seed), instance.inputs(seed))))


def _problem_facts(session, request, instance, seed: int, clock, out, tolerance: Tolerance, *, tf32: bool
                   ) -> BaselineTimings | None:
    """Baselines, speed of light and sanity of the reference: computed once per problem and config. `tf32`: the
    reference computes in TF32 in this regime."""
    settings, problem, config = request.settings, request.problem, instance.config
    with clock.stage(Stage.DYNAMIC_CHECK):
        out["problem_sanity"] = session.fact(
            "sanity", problem, settings, config, lambda: dynamic_checks.problem_sanity(instance, seed, tolerance)
        )
        out["speed_of_light"] = session.fact(
            "sol", problem, settings, config,
            lambda: speed_of_light(instance.reference(seed), instance.inputs(seed), dtype=settings.dtype,
                                   spec=session.spec, tf32=tf32),
        )
    baselines = request.cached_baselines
    if baselines is None and request.measure_baselines:
        with clock.stage(Stage.BASELINE):
            baselines = session.fact(
                "baselines", problem, settings, config, lambda: measure_baselines(session, instance, settings, seed)
            )
    out["baselines"] = baselines
    return baselines


def _run_stages(session: WorkerSession, request: EvaluateRequest, seeds: _Seeds, clock: _Clock, out: dict) -> None:
    settings, problem = request.settings, request.problem
    with clock.stage(Stage.LOAD_PROBLEM):
        loaded = session.loaded(problem, settings)
        primary = problem.primary_config(on_cpu=session.on_cpu)
        instance = loaded.instance(primary)
    with clock.stage(Stage.DYNAMIC_CHECK):
        out["reference_switches"] = _reference_switches(session, request, instance, seeds.facts)
    # Where the reference computes in TF32 its tolerance is TF32's, and so is the compute floor a candidate meets.
    tf32 = tf32_applies(settings.math, out["reference_switches"], on_cuda=not session.on_cpu)
    tolerance = settings.resolved_tolerance(tf32=tf32)
    baselines = _problem_facts(session, request, instance, seeds.facts, clock, out, tolerance, tf32=tf32)
    if request.candidate_source is None:
        if settings.profile:
            with clock.stage(Stage.PROFILE):
                out["profile"] = profile_kernels(instance.reference(seeds.facts), instance.inputs(seeds.facts),
                                                 device=session.device, trace_file=_trace_file(request, "reference"))
        return
    with clock.stage(Stage.LOAD_CANDIDATE):
        use_content_build_folder(request.candidate_source)
        candidate_cls = load_candidate_class(request.candidate_source, name=request.candidate_name,
                                             workdir=session.workdir)
    with clock.stage(Stage.CORRECTNESS):
        out["correctness"] = run_correctness(
            loaded.instance,
            candidate_cls,
            primary=primary,
            extras=problem.extra_configs(on_cpu=session.on_cpu) if settings.check_extra_configs else [],
            seeds=seeds.trials(settings.correctness_trials),
            extra_trials=settings.extra_config_trials,
            tolerance=tolerance,
        )
    with clock.stage(Stage.DYNAMIC_CHECK):
        dynamic_checks.check_candidate(instance, candidate_cls, seeds.dynamic, tolerance, policy=settings.policy)
    with clock.stage(Stage.TIMING):
        model = instance.candidate(candidate_cls, seeds.timing)
        try:
            timing = _time_model(session, model, _input_sets(instance, seeds.timing, settings), settings)
        except Exception as exc:
            raise candidate_failure(exc, Stage.TIMING) from exc
    out["timing"] = timing
    out["flags"] = _flags(timing)
    with clock.stage(Stage.DYNAMIC_CHECK):
        dynamic_checks.check_fresh_inputs(instance, model, seeds.timing, seeds.fresh, tolerance)
        dynamic_checks.check_math_mode(settings.math)
        if flag := nan_propagation_flag(instance, model, seeds.timing, seeds.fresh):
            out["flags"].append(flag)
    if settings.profile:
        with clock.stage(Stage.PROFILE):
            try:
                out["profile"] = profile_kernels(model, instance.inputs(seeds.timing), device=session.device,
                                                 trace_file=_trace_file(request, "candidate"))
            except Exception as exc:
                raise candidate_failure(exc, Stage.PROFILE) from exc
    out["percent_of_light"] = percent_of_light(out["speed_of_light"], timing.median_ms) if (
        session.environment.timing_meaningful) else None
    if session.environment.timing_meaningful and baselines is not None:
        out["comparisons"] = [
            compare_timings(name, stats, timing)
            for name, stats in (("eager", baselines.eager), ("compiled", baselines.compiled))
            if stats is not None
        ]
    out["review_required"] = review_reasons(
        timing if session.environment.timing_meaningful else None,
        out.get("comparisons", []),
        out["speed_of_light"],
        out["problem_sanity"],
    )
