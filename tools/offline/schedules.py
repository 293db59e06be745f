"""Program-wide choices the search makes besides launch configurations, and the program each one gives.

A schedule decides how the traced reference is lowered and fused: whether GEMMs are written in Triton with
the row reductions that follow them (one kernel for `linear -> logsumexp` instead of cuBLAS, then a kernel
that reads its output back), and whether vendor convolutions run channels-last (as Inductor runs cuDNN in
TF32 and half precision), their epilogues reading that layout directly, whether pools whose windows tile their
input are reductions over a reshaped view (so the activation before them fuses in; lowering_pool.py), whether
other pools compute their elementwise producers at every tap (tap_producers.py), whether a sum over a linear
layer's outputs is taken through its weight (linear_sums.py), and whether reductions with too few kept rows to
fill the device are split across programs (split_reduction.py). The policy's plain schedule is the baseline; the
others are offered only where they change the program, and the harness's timings decide between them.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from .fusion import FusedProgram, fuse
from .linear_sums import linear_sums_program
from .loop_rolling import roll_loops
from .lowering import CHANNELS_LAST, VENDOR_CALLS, lower
from .pairwise import pairwise_program
from .program import PrimStep
from .sorted_scatter_source import sortable
from .split_reduction import worth_splitting
from .tap_producers import producers_at_taps
from .traced import TracedProgram

SCHEDULE_MARKER = "# kevolve-offline-schedule: "
CHANNELS_LAST_CALLS = {VENDOR_CALLS[op] for op in CHANNELS_LAST}


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    gemm_reductions: bool = Field(default=False, description="GEMMs in Triton, each with its epilogue and the "
                                  "reductions over its output rows in one kernel (under hybrid too)")
    channels_last: bool = Field(default=False, description="vendor convolutions on channels-last input and weight, "
                                "their elementwise epilogues walking that layout")
    reshaped_pools: bool = Field(default=False, description="pools whose windows tile their input are reductions "
                                 "over the input viewed as (outputs, taps) per spatial dim, with their producers fused")
    split_reductions: bool = Field(default=False, description="reductions with too few kept rows to fill the "
                                   "device share each row among several programs, and a kernel combines them")
    sorted_scatters: bool = Field(default=False, description="index_add's rows sorted by destination (a radix sort "
                                  "in Triton) and reduced per output row: bitwise reproducible, where atomics are not")
    pairwise: bool = Field(default=False, description="a triangle gathered from a batched product is computed in "
                           "one kernel that writes only the triangle (pairwise.py), not a vendor product and a gather")
    tap_producers: bool = Field(default=False, description="a pool's elementwise producers computed at its taps in "
                                "the pool's kernel (tap_producers.py), their output never written")
    linear_sums: bool = Field(default=False, description="a sum over a linear layer's outputs taken through its "
                              "weight's summed rows (linear_sums.py): a dot product per row instead of a GEMM")

    @property
    def label(self) -> str:
        parts = ["GEMMs with their row reductions in one Triton kernel"] if self.gemm_reductions else []
        parts += ["channels-last convolutions"] if self.channels_last else []
        parts += ["pools as reductions over reshaped windows"] if self.reshaped_pools else []
        parts += ["split reductions"] if self.split_reductions else []
        parts += ["sorted scatters"] if self.sorted_scatters else []
        parts += ["pairwise products in one kernel"] if self.pairwise else []
        parts += ["pool producers computed at the taps"] if self.tap_producers else []
        parts += ["sums through the weights"] if self.linear_sums else []
        return " and ".join(parts) or "plain"


PLAIN = Schedule()


def build(traced: TracedProgram, policy: str, schedule: Schedule) -> FusedProgram:
    """The fused program of `schedule`; lowering errors propagate (the caller says the reference is unsupported).
    A program with unsupported steps is not fused (it gets no kernels): those steps are the reason to give."""
    strict = policy == "strict"
    program = lower(traced, gemm_in_triton=strict or schedule.gemm_reductions,
                    vendor_fallback=not strict and schedule.gemm_reductions, channels_last=schedule.channels_last,
                    reshaped_pools=schedule.reshaped_pools)
    if program.unsupported:
        return FusedProgram(program, [])
    if schedule.linear_sums:
        program = linear_sums_program(program) or program
    if schedule.pairwise:
        program = pairwise_program(program) or program
    if schedule.tap_producers:
        program = producers_at_taps(program) or program
    return roll_loops(fuse(program, gemm_reductions=schedule.gemm_reductions))


def alternatives(traced: TracedProgram, policy: str, plain: FusedProgram, sm_count: int
                 ) -> dict[Schedule, FusedProgram]:
    """The schedules other than the plain one that change what the kernels do, with their programs.

    `sm_count`: the device's; each schedule with a reduction group whose kept rows cannot fill it (at the traced
    shape) also comes split (the same program, written as split kernels).
    """
    found: dict[Schedule, FusedProgram] = {}
    fused_rows = build(traced, policy, Schedule(gemm_reductions=True))
    if not fused_rows.program.unsupported and any(g.kind == "gemm_reduction" for g in fused_rows.groups):
        found[Schedule(gemm_reductions=True)] = fused_rows
    fused_pairs = build(traced, policy, Schedule(pairwise=True))
    if any(g.kind == "pairwise" for g in fused_pairs.groups):
        found[Schedule(pairwise=True)] = fused_pairs
    layouts = [False, True] if any(call in CHANNELS_LAST_CALLS for call in plain.program.vendor_calls) else [False]
    reshaped = build(traced, policy, Schedule(reshaped_pools=True))
    forms = {PLAIN: plain} | ({Schedule(reshaped_pools=True): reshaped} if _windows(reshaped) < _windows(plain) else {})
    pools = [*forms, *(form.model_copy(update={"tap_producers": True}) for form, fused in forms.items()
                       if producers_at_taps(fused.program) is not None)]
    for channels_last in layouts:  # a layout and a pooling form are independent choices: each pair is offered
        for pool in pools:
            schedule = pool.model_copy(update={"channels_last": channels_last})
            if schedule == Schedule(reshaped_pools=True):
                found[schedule] = reshaped
            elif schedule != PLAIN:
                found[schedule] = build(traced, policy, schedule)
    for schedule, fused in [(PLAIN, plain), *found.items()]:
        if any(worth_splitting(g, sm_count) for g in fused.groups):
            found[schedule.model_copy(update={"split_reductions": True})] = fused
    if any(sortable(g) for g in plain.groups):
        found[Schedule(sorted_scatters=True)] = plain
    if linear_sums_program(plain.program) is not None:
        found[Schedule(linear_sums=True)] = build(traced, policy, Schedule(linear_sums=True))
    return found


def _windows(fused: FusedProgram) -> int:
    return sum(isinstance(step, PrimStep) and step.kind == "window" for step in fused.program.steps)


def schedule_line(schedule: Schedule) -> str:
    return SCHEDULE_MARKER + json.dumps(schedule.model_dump(), sort_keys=True)


def read_schedule(source: str) -> Schedule:
    """The schedule a generated module was written with; the plain one for modules written before schedules."""
    for line in source.splitlines()[:4]:
        if line.startswith(SCHEDULE_MARKER):
            return Schedule.model_validate(json.loads(line[len(SCHEDULE_MARKER):]))
    return Schedule()
