"""Ranks candidate schedules and configurations before they are timed: device time is the scarce thing.

Each kernel a candidate launches (the engine's and the vendor calls it leaves in place) is a roofline: the bytes
it moves at the device's memory bandwidth or its FLOPs at the peak of the units it runs on, whichever is longer,
stretched by how little of the device its programs fill, plus a launch. A kernel of few programs leaves SMs idle
for its whole run, which is what a split reduction exists to fix; one more launch and one more read of its input
is what it costs. Bytes count each tensor once per pass over it (operands broadcast to a kernel's shape come
from cache), at the traced shape and dtypes.

The model is crude on purpose, and the search's measurements refine it: `Calibration` keeps, per schedule, the
geometric mean of measured over predicted times, and scales that schedule's predictions by it.
`top_choice_agreement` says how often the model's first choice was the one measured fastest.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable

import torch
from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.precision import DType, MathMode
from kevolve.hardware_specs import HardwareSpec

from .configs import GroupConfig
from .fusion_groups import FusedProgram, FusionGroup
from .program import Program, PyStep
from .split_reduction import extent, kept_rows, split_span
from .split_reduction import plan as split_plan
from .tap_producers import stored_as
from .triton_source import KernelNames

# A launch from the generated Python launcher: the driver's few microseconds and the launcher's own work.
LAUNCH_S = 5e-6
# Programs an SM holds at once for the kernels the engine writes (a few warps each): fewer in flight than this
# leave its memory pipeline idle.
RESIDENT_PROGRAMS_PER_SM = 2
_IDENTIFIER = re.compile(r"(?<![.\w])[A-Za-z_]\w*")


class KernelWork(BaseModel):
    """One launch: what it moves and computes, and over how many programs."""

    model_config = ConfigDict(frozen=True)

    what: str
    bytes: float = Field(ge=0)
    flops: float = Field(ge=0)
    programs: int = Field(ge=1, description="programs launched; vendor libraries are taken to fill the device")
    tensor_cores: bool = False

    def seconds(self, spec: HardwareSpec, mode: MathMode) -> float:
        memory = self.bytes / (spec.memory_bandwidth_gbps * 1e9)
        compute = self.flops / (_peak_tflops(spec, mode, self.tensor_cores) * 1e12)
        slots = spec.sm_count * RESIDENT_PROGRAMS_PER_SM
        fill = self.programs / (math.ceil(self.programs / slots) * slots)  # the last wave's idle slots count too
        return LAUNCH_S + max(memory, compute) / fill


def _peak_tflops(spec: HardwareSpec, mode: MathMode, tensor_cores: bool) -> float:
    if tensor_cores:
        dtype = DType.TF32 if mode.dtype is DType.FLOAT32 else mode.dtype
        try:
            return spec.peak_tflops(dtype, tensor_cores=True)
        except ValueError:  # a device with no tensor peak listed (the interpreter's placeholder spec)
            pass
    return spec.peak_tflops(DType.FLOAT32, tensor_cores=False)  # the engine's kernels compute in fp32


def _bytes(program: Program, name: str) -> int:
    shape = program.tensors.get(name)
    if shape is None:
        return 0
    return math.prod(shape.dims) * getattr(torch, shape.dtype.removeprefix("torch.")).itemsize


def _uses_tensor_cores(mode: MathMode, convolution: bool) -> bool:
    if mode.dtype is not DType.FLOAT32:
        return True
    return mode.cudnn_tf32 if convolution else mode.matmul_tf32


def _group_work(group: FusionGroup, config: GroupConfig, program: Program, mode: MathMode) -> list[KernelWork]:
    names = KernelNames(group)
    read = sum(_bytes(program, t) for t in names.full) + sum(_bytes(program, stored_as(program, t))
                                                             for t in names.windowed)
    per_row = sum(_bytes(program, t) for t in names.reduced)
    written = sum(_bytes(program, o) for o in group.outputs)
    elements = math.prod(group.shape)
    flops = float(elements * len(group.members))
    if group.kind == "pointwise":
        return [KernelWork(what=group.name, bytes=read + written, flops=flops,
                           programs=max(1, math.ceil(elements / config.block)))]
    if (pair := group.pairwise()) is not None:
        a, b = pair.tensor_args()
        batch, n, inner = program.tensors[a].dims
        m = program.tensors[b].dims[2]
        row_tiles, column_tiles = math.ceil(n / config.tile_m), math.ceil(m / config.tile_n)
        # Each tile reads its rows of A and its columns of B: A once per column tile, B once per row tile.
        return [KernelWork(what=group.name, flops=2.0 * batch * n * m * inner, programs=max(1, batch * row_tiles
                           * column_tiles), bytes=column_tiles * _bytes(program, a) + row_tiles * _bytes(program, b)
                           + written, tensor_cores=_uses_tensor_cores(mode, convolution=False))]
    product = group.gemm()
    reductions = sum(m.kind == "reduce" for m in group.members)
    if product is not None:
        x, w = product.tensor_args()[:2]
        multiply = 2.0 * elements * program.tensors[x].dims[1]
        passes = 1 if group.kind == "gemm" or group.shape[1] <= config.single_max else reductions + 1
        programs = (math.ceil(group.shape[0] / config.tile_m) * math.ceil(group.shape[1] / config.tile_n)
                    if group.kind == "gemm" else math.ceil(group.shape[0] / config.rows))
        return [KernelWork(what=group.name, bytes=_bytes(program, x) + _bytes(program, w) + read + written,
                           flops=passes * multiply + flops, programs=max(1, programs),
                           tensor_cores=_uses_tensor_cores(mode, convolution=False))]
    row_blocks = max(1, math.ceil(kept_rows(group) / config.rows))
    if config.splits:
        return _split_work(group, config, row_blocks, read, per_row, written, flops)
    # On chip, every input is read once; looping, once per reduction and once more for the full-level outputs.
    on_chip = extent(group) <= config.single_max or bool(group.window_members() or group.selections())
    passes = 1 if on_chip else reductions + bool(names.outputs_full)
    return [KernelWork(what=group.name, bytes=passes * read + per_row + written, flops=flops, programs=row_blocks)]


def _split_work(group: FusionGroup, config: GroupConfig, row_blocks: int, read: int, per_row: int, written: int,
                flops: float) -> list[KernelWork]:
    stages = split_plan(group)
    _, splits = split_span(extent(group), config.splits, config.chunk)
    partials = 4 * kept_rows(group) * splits * len(stages.slots)
    work = [KernelWork(what=f"{group.name} partials {i}", bytes=read + per_row + partials, flops=flops,
                       programs=row_blocks * splits) for i in range(len(stages.levels))]
    full = any(group.levels[o] == "full" for o in group.outputs)
    return [*work, KernelWork(what=f"{group.name} finish", bytes=(read if full else 0) + per_row + partials + written,
                              flops=flops if full else 0.0, programs=row_blocks * (splits if full else 1))]


def _vendor_work(step: PyStep, program: Program, mode: MathMode, spec: HardwareSpec) -> KernelWork:
    """A cuBLAS or cuDNN call from its operands' traced shapes: 2 FLOPs per output and inner-dim element."""
    operands = [n for n in _IDENTIFIER.findall(step.code) if n in program.tensors]
    op = step.vendor.rsplit(".", 1)[-1]
    out = math.prod(step.shape.dims) if step.shape is not None else 0
    shapes = [program.tensors[n].dims for n in operands]
    if len(shapes) < 2:  # operands the trace left unshaped: only what is moved is counted
        multiply = 0.0
    elif op.startswith("conv_transpose"):
        multiply = 2.0 * math.prod(shapes[0]) * math.prod(shapes[1][1:])
    elif op.startswith("conv") or op == "linear":
        multiply = 2.0 * out * math.prod(shapes[1][1:])
    elif op == "scaled_dot_product_attention":  # q k^T over the keys' length S, then the weights times v
        (*_, head_dim), (*_, keys, _), (*_, value_dim) = shapes[:3]
        multiply = 2.0 * (out / value_dim) * keys * (head_dim + value_dim)
    else:  # matmul, mm, bmm, addmm, baddbmm: the inner dim is the last operand's first (a vector) or second to last
        multiply = 2.0 * out * shapes[-1][-2 if len(shapes[-1]) > 1 else 0]
    moved = sum(_bytes(program, n) for n in operands) + (_bytes(program, step.name) if step.shape else 0)
    return KernelWork(what=op, bytes=moved, flops=multiply, programs=spec.sm_count * RESIDENT_PROGRAMS_PER_SM,
                      tensor_cores=_uses_tensor_cores(mode, convolution=op.startswith("conv")))


def program_work(fused: FusedProgram, configs: dict[str, GroupConfig], mode: MathMode, spec: HardwareSpec
                 ) -> list[KernelWork]:
    """Every launch of a candidate, in order: the engine's kernels and the vendor calls left in place."""
    work: list[KernelWork] = []
    for position, stage in enumerate(fused.stages):
        # A rolled loop's launches run once per module it covers, at the traced depth.
        runs = fused.loop.runs if fused.loop is not None and fused.loop.body[0] <= position < fused.loop.body[1] else 1
        if isinstance(stage, PyStep):
            work += [_vendor_work(stage, fused.program, mode, spec)] * runs if stage.vendor else []
        else:
            work += _group_work(stage, configs[stage.name], fused.program, mode) * runs
    return work


def predict_seconds(fused: FusedProgram, configs: dict[str, GroupConfig], mode: MathMode, spec: HardwareSpec
                    ) -> float:
    return sum(kernel.seconds(spec, mode) for kernel in program_work(fused, configs, mode, spec))


class Calibration:
    """Measured over predicted times, per schedule label: the model's error is mostly per schedule (a kernel form
    it over- or under-rates), so one factor per schedule corrects its rankings after a few timings."""

    def __init__(self) -> None:
        self._log_ratios: dict[str, list[float]] = defaultdict(list)

    def observe(self, schedule: str, predicted_s: float, measured_s: float) -> None:
        if predicted_s > 0 and measured_s > 0:
            self._log_ratios[schedule].append(math.log(measured_s / predicted_s))

    def factor(self, schedule: str) -> float:
        ratios = self._log_ratios.get(schedule)
        return math.exp(sum(ratios) / len(ratios)) if ratios else 1.0

    def corrected(self, schedule: str, predicted_s: float) -> float:
        return predicted_s * self.factor(schedule)


class Trial(BaseModel):
    """One choice the model made: its predicted and the measured time of each option that was timed."""

    model_config = ConfigDict(frozen=True)

    predicted_s: dict[str, float]
    measured_s: dict[str, float]


def top_choice_agreement(trials: Iterable[Trial]) -> float | None:
    """The share of trials (with two or more options timed) whose predicted fastest was the measured fastest;
    None when there is none."""
    judged = [t for t in trials if len(t.measured_s.keys() & t.predicted_s.keys()) >= 2]
    if not judged:
        return None
    hits = 0
    for trial in judged:
        timed = trial.measured_s.keys() & trial.predicted_s.keys()
        hits += min(timed, key=trial.predicted_s.__getitem__) == min(timed, key=trial.measured_s.__getitem__)
    return hits / len(judged)
