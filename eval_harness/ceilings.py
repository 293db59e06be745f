"""Measured ceilings for a device with no hardware spec: copy bandwidth and matrix throughput.

Datasheet numbers are leads; for an unknown device they are all we lack, so the worker measures
the two roofline ceilings itself: a large device-to-device copy (bytes read plus bytes written over
time) and a square matrix product per dtype.
"""

from __future__ import annotations

import torch

from .results import MeasuredCeilings
from .settings import TimingSettings
from .timing import time_call

_CEILING_TIMING = TimingSettings(warmup_calls=3, warmup_ms=0, trials=10, min_trials_when_slow=5, max_seconds=5.0,
                                 input_sets=1, flush_l2=False)


def _median_ms(call, inputs, device: torch.device) -> float:
    stats = time_call(lambda args: call(*args), [inputs], _CEILING_TIMING, device=device, l2_flush_bytes=0)
    return stats.median_ms


def measure_ceilings(device: torch.device, *, copy_bytes: int = 1 << 30, matmul_size: int = 8192) -> MeasuredCeilings:
    source = torch.empty(copy_bytes // 4, dtype=torch.float32, device=device).uniform_()
    target = torch.empty_like(source)
    copy_ms = _median_ms(lambda s, t: t.copy_(s), [source, target], device)
    del source, target
    tflops = {}
    for dtype in (torch.float32, torch.bfloat16):
        a = torch.randn(matmul_size, matmul_size, device=device, dtype=dtype)
        b = torch.randn(matmul_size, matmul_size, device=device, dtype=dtype)
        matmul_ms = _median_ms(torch.matmul, [a, b], device)
        tflops[str(dtype).removeprefix("torch.")] = 2 * matmul_size**3 / (matmul_ms * 1e-3) / 1e12
    properties = torch.cuda.get_device_properties(device) if device.type == "cuda" else None
    return MeasuredCeilings(
        copy_bandwidth_gbps=2 * copy_bytes / (copy_ms * 1e-3) / 1e9,
        matmul_tflops=tflops,
        l2_cache_bytes=getattr(properties, "L2_cache_size", None) if properties else None,
        multiprocessor_count=properties.multi_processor_count if properties else None,
    )
