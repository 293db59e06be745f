"""Speed of light: the fastest any kernel could compute a problem on a device.

Two floors. Bytes: every input, parameter and buffer read once and every output written once,
over the memory bandwidth. FLOPs: PyTorch's flop counter over the reference forward (matrix
products, convolutions and attention; elementwise arithmetic is not counted, which only
understates the floor of arithmetic-heavy elementwise chains), over the peak of the unit that
dtype runs on. The larger floor is the speed-of-light time and says whether the problem is
memory- or compute-bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from kevolve.hardware_specs import HardwareSpec

from .instances import call_model
from .results import SpeedOfLight
from .settings import DType
from .tensors import as_output_list, tensor_bytes

# Whether the dtype's matrix products run on tensor cores: fp32 is floored on the vector FMA units unless the regime
# lets the reference's products run in TF32 (then a candidate may too, and the floor is TF32's tensor peak).
_ON_TENSOR_CORES: dict[DType, bool] = {DType.FLOAT32: False, DType.BFLOAT16: True, DType.FLOAT16: True}


def count_flops(model: nn.Module, inputs: Sequence[Any]) -> int:
    with FlopCounterMode(display=False) as counter:
        call_model(model, inputs)
    return int(counter.get_total_flops())


def minimum_bytes(model: nn.Module, inputs: Sequence[Any], outputs: Sequence[Any]) -> int:
    state = list(model.parameters()) + list(model.buffers())
    return tensor_bytes(list(inputs)) + tensor_bytes(outputs) + tensor_bytes(state)


def speed_of_light(
    model: nn.Module, inputs: Sequence[Any], *, dtype: DType, spec: HardwareSpec | None, tf32: bool = False
) -> SpeedOfLight:
    """Counts FLOPs and bytes of one reference forward; times need a spec with real numbers. `tf32`: the regime
    computes the reference's float32 products in TF32 (tolerances.tf32_applies)."""
    flops = count_flops(model, inputs)
    outputs = as_output_list(call_model(model, inputs))
    moved = minimum_bytes(model, inputs, outputs)
    if spec is None or not spec.timing_meaningful:
        return SpeedOfLight(flops=flops, bytes=moved)
    unit = DType.TF32 if tf32 and dtype is DType.FLOAT32 else dtype
    tensor_cores = unit is DType.TF32 or _ON_TENSOR_CORES[dtype]
    peak_tflops = spec.peak_tflops(unit, tensor_cores)
    flop_ms = flops / (peak_tflops * 1e12) * 1e3
    byte_ms = moved / (spec.memory_bandwidth_gbps * 1e9) * 1e3
    return SpeedOfLight(
        flops=flops,
        bytes=moved,
        peak_tflops=peak_tflops,
        peak_unit=f"{unit.value} {'tensor' if tensor_cores else 'vector'}",
        bandwidth_gbps=spec.memory_bandwidth_gbps,
        flop_floor_ms=flop_ms,
        byte_floor_ms=byte_ms,
        floor_ms=max(flop_ms, byte_ms),
        bound="compute" if flop_ms > byte_ms else "memory",
        arithmetic_intensity=flops / moved if moved else None,
    )


def percent_of_light(sol: SpeedOfLight | None, median_ms: float | None) -> float | None:
    if sol is None or sol.floor_ms is None or not median_ms:
        return None
    return 100.0 * sol.floor_ms / median_ms

