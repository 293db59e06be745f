"""Timing of one callable over rotating input sets: the one place where kevolve reads a clock.

On CUDA: events around each call, a device-wide synchronize before the end event is read (work
hidden on another stream then still finishes inside the measured window of the host clock, which
we record beside the events), and the L2 flushed between trials so each call starts cold, as it
would inside a real model. On a CPU (Triton's interpreter) the wall clock is read, and the caller
marks the figures as not meaningful.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from .results import TimingStats
from .settings import TimingSettings

Call = Callable[[Sequence[Any]], Any]


class L2Flusher:
    """Zeroes a buffer larger than the L2 cache, evicting whatever the last call left there."""

    def __init__(self, device: torch.device, l2_flush_bytes: int) -> None:
        self._buffer = torch.empty(max(l2_flush_bytes // 4, 1), dtype=torch.int32, device=device)

    def __call__(self) -> None:
        self._buffer.zero_()


def _quartiles(samples: list[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return samples[0], samples[0]
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q1, q3


def summarize(
    samples_ms: list[float],
    *,
    method: str,
    l2_flushed: bool,
    input_sets: int,
    wall_samples_ms: list[float] | None = None,
) -> TimingStats:
    q1, q3 = _quartiles(samples_ms)
    return TimingStats(
        method=method,
        trials=len(samples_ms),
        median_ms=statistics.median(samples_ms),
        q1_ms=q1,
        q3_ms=q3,
        min_ms=min(samples_ms),
        max_ms=max(samples_ms),
        mean_ms=statistics.fmean(samples_ms),
        std_ms=statistics.pstdev(samples_ms),
        samples_ms=samples_ms,
        l2_flushed=l2_flushed,
        input_sets=input_sets,
        wall_median_ms=statistics.median(wall_samples_ms) if wall_samples_ms else None,
    )


def _warm_up(call: Call, input_sets: Sequence[Sequence[Any]], settings: TimingSettings, sync: Callable) -> None:
    started, calls = time.perf_counter(), 0
    while calls < settings.warmup_calls or (time.perf_counter() - started) * 1e3 < settings.warmup_ms:
        call(input_sets[calls % len(input_sets)])
        calls += 1
        if calls >= 10 * settings.warmup_calls:
            break
    sync()


def _enough(trials: int, started: float, settings: TimingSettings) -> bool:
    if trials >= settings.trials:
        return True
    return trials >= settings.min_trials_when_slow and time.perf_counter() - started > settings.max_seconds


def time_cuda(
    call: Call,
    input_sets: Sequence[Sequence[Any]],
    settings: TimingSettings,
    *,
    device: torch.device,
    l2_flush_bytes: int,
) -> TimingStats:
    flusher = L2Flusher(device, l2_flush_bytes) if settings.flush_l2 else None
    sync = torch.cuda.synchronize
    _warm_up(call, input_sets, settings, sync)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    samples, wall_samples = [], []
    started = time.perf_counter()
    while not _enough(len(samples), started, settings):
        inputs = input_sets[len(samples) % len(input_sets)]
        if flusher is not None:
            flusher()
        sync()
        wall_start = time.perf_counter()
        start.record()
        call(inputs)
        end.record()
        sync()
        wall_samples.append((time.perf_counter() - wall_start) * 1e3)
        samples.append(start.elapsed_time(end))
    return summarize(
        samples,
        method="cuda_events",
        l2_flushed=flusher is not None,
        input_sets=len(input_sets),
        wall_samples_ms=wall_samples,
    )


def time_cpu(call: Call, input_sets: Sequence[Sequence[Any]], settings: TimingSettings) -> TimingStats:
    _warm_up(call, input_sets, settings, lambda: None)
    samples: list[float] = []
    started = time.perf_counter()
    while not _enough(len(samples), started, settings):
        t0 = time.perf_counter()
        call(input_sets[len(samples) % len(input_sets)])
        samples.append((time.perf_counter() - t0) * 1e3)
    return summarize(samples, method="cpu_wall", l2_flushed=False, input_sets=len(input_sets))


def time_call(
    call: Call,
    input_sets: Sequence[Sequence[Any]],
    settings: TimingSettings,
    *,
    device: torch.device,
    l2_flush_bytes: int,
) -> TimingStats:
    if device.type == "cuda":
        return time_cuda(call, input_sets, settings, device=device, l2_flush_bytes=l2_flush_bytes)
    return time_cpu(call, input_sets, settings)
