"""The offline engine as the coder and planner use it: a design per task, then candidates from it.

A design is traced, lowered and fused once per reference, policy and precision regime (traced at the
regime's dtype, its GEMMs using tensor cores as the regime allows: regime.py), once per schedule
(schedules.py: the plain one, and those that fuse or lay out differently where they change the program).
Candidates differ in their schedule and launch configurations: the drafts are each schedule's defaults, in the
order the cost model ranks them (cost_model.py, corrected by the timings `observe` reports), and a candidate built
on an engine-written parent walks to that parent's neighbouring configurations (one group at a time); a crossover
mixes two parents' configurations group by group. Each source is proposed once: known and handed-out sources are
skipped, so parallel coders of one round never write the same candidate.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.precision import MathMode
from kevolve.eval_harness.problem import sha256_text
from kevolve.hardware_specs import HardwareSpec, load_spec

from .configs import GroupConfig, default_configs, neighbours
from .cost_model import Calibration, Trial, predict_seconds, top_choice_agreement
from .fusion_groups import FusedProgram, FusionGroup
from .module_source import module_source, read_configs
from .regime import EXACT
from .schedules import PLAIN, Schedule, alternatives, build, read_schedule
from .sorted_scatter_source import sortable
from .tracing import TraceFailed, trace_reference

# The device whose SM count decides which reductions are worth splitting when a run does not name its own.
DEFAULT_DEVICE = "h100_sxm"


class GroupSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    operations: list[str]
    shape: list[int] = Field(description="iteration shape at the traced configuration")
    reduced_dims: list[int]


class Design(BaseModel):
    """What the planner learns from the trace: what can be generated, and how it is grouped."""

    model_config = ConfigDict(frozen=True)

    supported: bool
    reason: str | None = None
    groups: list[GroupSummary] = Field(default_factory=list)
    vendor_calls: list[str] = Field(default_factory=list)
    baked: list[str] = Field(default_factory=list, description="constants kept at the traced configuration's value")
    alternatives: list[str] = Field(default_factory=list, description="other schedules the search also tries")
    loop: str | None = Field(default=None, description="a module container's blocks run as one loop, if any")

    def describe(self) -> str:
        if not self.supported:
            return f"the offline engine cannot write this reference: {self.reason}"
        parts = [f"{g.name}: {g.kind} over {g.shape}" + (f" reducing dims {g.reduced_dims}" if g.reduced_dims else "")
                 + f" ({', '.join(g.operations)})" for g in self.groups]
        vendor = f"; left to the vendor library: {', '.join(self.vendor_calls)}" if self.vendor_calls else ""
        baked = f"; constants kept from the traced configuration: {', '.join(self.baked)}" if self.baked else ""
        others = f"; the search also tries {', '.join(self.alternatives)}" if self.alternatives else ""
        loop = f"; {self.loop}" if self.loop else ""
        return f"{len(self.groups)} fused kernel(s): " + "; ".join(parts) + vendor + baked + loop + others


class Proposal(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    notes: str


def _loop_line(fused: FusedProgram) -> str | None:
    loop = fused.loop
    if loop is None:
        return None
    last = ", then the last module's block after it" if loop.trailing is not None else ""
    walked = " and ".join(f"self.{container}" for container in loop.containers)
    return (f"the blocks of {walked} from module {loop.first} run as one loop (their kernels written "
            f"once){last}")


def _summary(group: FusionGroup) -> GroupSummary:
    return GroupSummary(name=group.name, kind=group.kind, operations=[m.fn for m in group.members],
                        shape=list(group.shape), reduced_dims=list(group.reduced_dims))


@dataclass
class _Designed:
    """A design with its programs, each schedule's default configurations, and what the cost model learnt of it."""

    design: Design
    programs: dict[Schedule, FusedProgram]
    spec: HardwareSpec
    mode: MathMode
    defaults: dict[Schedule, dict[str, GroupConfig]] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)
    measured_s: dict[str, float] = field(default_factory=dict)  # each schedule's fastest timing, by label

    def __post_init__(self) -> None:
        self.defaults = {schedule: default_configs(fused.groups, schedule.split_reductions, self.spec.sm_count)
                         for schedule, fused in self.programs.items()}

    def predicted_s(self, schedule: Schedule, configs: dict[str, GroupConfig] | None = None) -> float:
        configs = self.defaults[schedule] if configs is None else configs
        return predict_seconds(self.programs[schedule], configs, self.mode, self.spec)

    def ranked(self) -> list[Schedule]:
        """Schedules by their defaults' predicted time, corrected by this design's timings (ties: plain first)."""
        return sorted(self.programs, key=lambda s: self.calibration.corrected(s.label, self.predicted_s(s)))

    def trial(self) -> Trial:
        return Trial(predicted_s={s.label: self.predicted_s(s) for s in self.programs}, measured_s=self.measured_s)


class OfflineEngine:
    """Designs cached per (reference, policy, regime, device); safe to call from the coders' threads."""

    def __init__(self, *, trace_timeout_s: float = 120.0) -> None:
        self._timeout = trace_timeout_s
        self._designs: dict[tuple[str, str, str, str], _Designed] = {}
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def design(self, reference: str, policy: str, mode: MathMode = EXACT, device: str | None = None) -> Design:
        """`device`: the hardware spec's name (TaskView.hardware_spec); DEFAULT_DEVICE when None."""
        return self._designed(reference, policy, mode, _spec(device)).design

    def _designed(self, reference: str, policy: str, mode: MathMode, spec: HardwareSpec) -> _Designed:
        key = (sha256_text(reference), policy, mode.key, spec.name)
        with self._lock:
            if key not in self._designs:
                self._designs[key] = _Designed(*self._make(reference, policy, mode, spec), spec, mode)
            return self._designs[key]

    def _make(self, reference: str, policy: str, mode: MathMode, spec: HardwareSpec
              ) -> tuple[Design, dict[Schedule, FusedProgram]]:
        try:
            traced = trace_reference(reference, dtype=mode.dtype, timeout_s=self._timeout)
        except TraceFailed as exc:
            return Design(supported=False, reason=f"tracing failed: {exc}"), {}
        try:
            fused = build(traced, policy, PLAIN)
            others = alternatives(traced, policy, fused, spec.sm_count)
        except (KeyError, ValueError, TypeError, IndexError, ArithmeticError) as exc:  # a form it does not know
            return Design(supported=False, reason=f"lowering failed: {type(exc).__name__}: {exc}"), {}
        program = fused.program
        if program.unsupported:
            missing = ", ".join(sorted(set(program.unsupported)))
            return Design(supported=False, reason=f"no generator for {missing}"), {}
        if not fused.groups:
            return Design(supported=False, reason="nothing to fuse: the forward is vendor calls and views"), {}
        return Design(supported=True, groups=[_summary(g) for g in fused.groups], vendor_calls=program.vendor_calls,
                      baked=program.kept_at_trace, alternatives=[s.label for s in others], loop=_loop_line(fused)), \
            {PLAIN: fused, **others}

    def propose(self, reference: str, policy: str, parents: list[str], known_sources: set[str],
                mode: MathMode = EXACT, device: str | None = None) -> Proposal | None:
        """The next unseen candidate near the parents (engine-written ones), or from the defaults."""
        designed = self._designed(reference, policy, mode, _spec(device))
        if not designed.programs:
            return None
        for schedule, configs, why in self._configurations(designed, parents):
            source = module_source(reference, designed.programs[schedule], configs, designed.design.describe(), mode,
                                   schedule)
            digest = sha256_text(source)
            with self._lock:
                if digest in known_sources or digest in self._claimed:
                    continue
                self._claimed.add(digest)
            return Proposal(source=source, notes=f"offline engine: {why}")
        return None

    def observe(self, reference: str, policy: str, source: str, measured_ms: float, mode: MathMode = EXACT,
                device: str | None = None) -> None:
        """A timing of a candidate the engine wrote (others are ignored): it calibrates the cost model's
        predictions for this design's schedules and scores the model's ranking (`model_agreement`)."""
        designed = self._designed(reference, policy, mode, _spec(device))
        schedule, configs = read_schedule(source), read_configs(source)
        if configs is None or schedule not in designed.programs or configs.keys() != designed.defaults[schedule].keys():
            return
        predicted = designed.predicted_s(schedule, configs)
        with self._lock:
            designed.calibration.observe(schedule.label, predicted, measured_ms / 1e3)
            best = designed.measured_s.get(schedule.label, math.inf)
            designed.measured_s[schedule.label] = min(best, measured_ms / 1e3)

    def model_agreement(self) -> float | None:
        """How often the cost model's fastest schedule was the fastest measured, over the designs with two or more
        schedules timed; None before there is one."""
        with self._lock:
            trials = [designed.trial() for designed in self._designs.values() if len(designed.programs) > 1]
        return top_choice_agreement(trials)

    @staticmethod
    def _configurations(designed: _Designed, parents: list[str]
                        ) -> Iterator[tuple[Schedule, dict[str, GroupConfig], str]]:
        programs, defaults = designed.programs, designed.defaults
        plans = [(schedule, configs) for schedule, configs in ((read_schedule(s), read_configs(s)) for s in parents)
                 if configs and schedule in programs and configs.keys() == defaults[schedule].keys()]
        if len(plans) >= 2 and plans[0][0] == plans[1][0]:
            schedule, first, second = plans[0][0], plans[0][1], plans[1][1]
            for g in programs[schedule].groups:
                if first[g.name] != second[g.name]:
                    yield schedule, {**first, g.name: second[g.name]}, f"{g.name} configured as in the second parent"
        # Without a parent, each schedule's defaults in the cost model's order, then the walk from the first.
        ranked = designed.ranked()
        schedule, base = plans[0] if plans else (ranked[0], defaults[ranked[0]])
        for other in ranked:
            if not plans or other != schedule:
                yield other, defaults[other], f"schedule: {other.label}, default configurations"
        for g in programs[schedule].groups:
            for option in neighbours(g, base[g.name], schedule.sorted_scatters and sortable(g)):
                yield schedule, {**base, g.name: option}, f"{g.name}: {_difference(base[g.name], option)}"


def _spec(device: str | None) -> HardwareSpec:
    return load_spec(device or DEFAULT_DEVICE)


def _difference(before: GroupConfig, after: GroupConfig) -> str:
    changes = [f"{key} {getattr(before, key)} -> {value}" for key, value in after.model_dump().items()
               if getattr(before, key) != value]
    return ", ".join(changes) or "same configuration"
