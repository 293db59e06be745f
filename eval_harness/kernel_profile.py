"""Kernel-level profile of a model's forward: which kernels ran, how often, for how long.

On a GPU, torch.profiler's CUDA activity gives every kernel's device time, from vendor libraries
and custom kernels alike. On a CPU there are no device kernels, so the Triton launch hook gives
names and counts only. A forward whose kernels keep the device busy less than half of its wall
time, over several launches, is launch-bound: fusing launches beats tuning kernels there.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from . import kernel_launches
from .instances import call_model
from .results import KernelProfile, KernelStat

_TOP_KERNELS = 8
_CALLS = 5
_LAUNCH_BOUND_BUSY_FRACTION = 0.5
_LAUNCH_BOUND_MIN_LAUNCHES = 4


def _stats(totals: dict[str, float], counts: dict[str, int], calls: int) -> list[KernelStat]:
    device_total = sum(totals.values()) or 1.0
    ranked = sorted(totals, key=totals.__getitem__, reverse=True)[:_TOP_KERNELS]
    return [
        KernelStat(
            name=name[:160],
            launches_per_call=counts[name] / calls,
            device_ms_per_call=totals[name] / calls,
            share=totals[name] / device_total,
        )
        for name in ranked
    ]


def _profile_cuda(model: nn.Module, inputs: Sequence[Any], trace_file: Path | None) -> KernelProfile:
    call_model(model, inputs)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        started = time.perf_counter()
        for _ in range(_CALLS):
            call_model(model, inputs)
        torch.cuda.synchronize()
        wall_ms = (time.perf_counter() - started) * 1e3 / _CALLS
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            totals[event.name] += event.device_time_total / 1e3
            counts[event.name] += 1
    if trace_file is not None:
        trace_file.parent.mkdir(parents=True, exist_ok=True)
        prof.export_chrome_trace(str(trace_file))
    device_ms = sum(totals.values()) / _CALLS
    launches = sum(counts.values()) / _CALLS
    return KernelProfile(
        source="torch.profiler",
        calls_profiled=_CALLS,
        kernels=_stats(totals, counts, _CALLS),
        launches_per_call=launches,
        device_ms_per_call=device_ms,
        wall_ms_per_call=wall_ms,
        launch_bound=launches >= _LAUNCH_BOUND_MIN_LAUNCHES and device_ms < _LAUNCH_BOUND_BUSY_FRACTION * wall_ms,
        trace_file=str(trace_file) if trace_file else None,
    )


def _profile_launch_hook(model: nn.Module, inputs: Sequence[Any]) -> KernelProfile:
    with kernel_launches.recording() as launches:
        call_model(model, inputs)
    return KernelProfile(
        source="triton_launch_hook",
        calls_profiled=1,
        kernels=[KernelStat(name=n, launches_per_call=c, device_ms_per_call=0.0, share=0.0)
                 for n, c in launches.most_common(_TOP_KERNELS)],
        launches_per_call=float(sum(launches.values())),
    )


def profile_kernels(
    model: nn.Module, inputs: Sequence[Any], *, device: torch.device, trace_file: Path | None = None
) -> KernelProfile:
    if device.type == "cuda":
        return _profile_cuda(model, inputs, trace_file)
    return _profile_launch_hook(model, inputs)
