"""The offline engine as the coder and planner use it: a design per task, then candidates from it.

A design is traced, lowered and fused once per reference, policy and precision regime (traced at the
regime's dtype, its GEMMs using tensor cores as the regime allows: regime.py). Candidates differ only in
their launch configurations: a draft uses the defaults, and a candidate built on an engine-written
parent walks to that parent's neighbouring configurations (one group at a time); a crossover mixes
two parents' configurations group by group. Each source is proposed once: known and handed-out
sources are skipped, so parallel coders of one round never write the same candidate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.precision import MathMode
from kevolve.eval_harness.problem import sha256_text

from .configs import GroupConfig, default_config, neighbours
from .fusion import FusedProgram, FusionGroup, fuse
from .lowering import lower
from .module_source import module_source, read_configs
from .regime import EXACT
from .tracing import TraceFailed, trace_reference


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

    def describe(self) -> str:
        if not self.supported:
            return f"the offline engine cannot write this reference: {self.reason}"
        parts = [f"{g.name}: {g.kind} over {g.shape}" + (f" reducing dims {g.reduced_dims}" if g.reduced_dims else "")
                 + f" ({', '.join(g.operations)})" for g in self.groups]
        vendor = f"; left to the vendor library: {', '.join(self.vendor_calls)}" if self.vendor_calls else ""
        baked = f"; constants kept from the traced configuration: {', '.join(self.baked)}" if self.baked else ""
        return f"{len(self.groups)} fused kernel(s): " + "; ".join(parts) + vendor + baked


class Proposal(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    notes: str


def _summary(group: FusionGroup) -> GroupSummary:
    return GroupSummary(name=group.name, kind=group.kind, operations=[m.fn for m in group.members],
                        shape=list(group.shape), reduced_dims=list(group.reduced_dims))


class OfflineEngine:
    """Designs cached per (reference, policy, regime); safe to call from the coders' threads."""

    def __init__(self, *, trace_timeout_s: float = 120.0) -> None:
        self._timeout = trace_timeout_s
        self._designs: dict[tuple[str, str, str], tuple[Design, FusedProgram | None]] = {}
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def design(self, reference: str, policy: str, mode: MathMode = EXACT) -> Design:
        return self._designed(reference, policy, mode)[0]

    def _designed(self, reference: str, policy: str, mode: MathMode) -> tuple[Design, FusedProgram | None]:
        key = (sha256_text(reference), policy, mode.key)
        with self._lock:
            if key not in self._designs:
                self._designs[key] = self._make(reference, policy, mode)
            return self._designs[key]

    def _make(self, reference: str, policy: str, mode: MathMode) -> tuple[Design, FusedProgram | None]:
        try:
            traced = trace_reference(reference, dtype=mode.dtype, timeout_s=self._timeout)
        except TraceFailed as exc:
            return Design(supported=False, reason=f"tracing failed: {exc}"), None
        try:
            program = lower(traced, gemm_in_triton=policy == "strict")
        except (KeyError, ValueError, TypeError, IndexError) as exc:  # a form of a call the lowering does not know
            return Design(supported=False, reason=f"lowering failed: {type(exc).__name__}: {exc}"), None
        if program.unsupported:
            missing = ", ".join(sorted(set(program.unsupported)))
            return Design(supported=False, reason=f"no generator for {missing}"), None
        fused = fuse(program)
        if not fused.groups:
            return Design(supported=False, reason="nothing to fuse: the forward is vendor calls and views"), None
        return Design(supported=True, groups=[_summary(g) for g in fused.groups], vendor_calls=program.vendor_calls,
                      baked=program.baked), fused

    def propose(self, reference: str, policy: str, parents: list[str], known_sources: set[str],
                mode: MathMode = EXACT) -> Proposal | None:
        """The next unseen candidate near the parents (engine-written ones), or from the defaults."""
        design, fused = self._designed(reference, policy, mode)
        if fused is None:
            return None
        for configs, why in self._configurations(fused.groups, parents):
            source = module_source(reference, fused, configs, design.describe(), mode)
            digest = sha256_text(source)
            with self._lock:
                if digest in known_sources or digest in self._claimed:
                    continue
                self._claimed.add(digest)
            return Proposal(source=source, notes=f"offline engine: {why}")
        return None

    @staticmethod
    def _configurations(groups: list[FusionGroup], parents: list[str]
                        ) -> Iterator[tuple[dict[str, GroupConfig], str]]:
        defaults = {g.name: default_config(g) for g in groups}
        parent_configs = [c for c in (read_configs(source) for source in parents) if c and c.keys() == defaults.keys()]
        if len(parent_configs) >= 2:
            first, second = parent_configs[:2]
            for g in groups:
                if first[g.name] != second[g.name]:
                    yield {**first, g.name: second[g.name]}, f"{g.name} configured as in the second parent"
        base = parent_configs[0] if parent_configs else defaults
        if not parent_configs:
            yield base, "default configuration for each fused kernel"
        for g in groups:
            for option in neighbours(g, base[g.name]):
                yield {**base, g.name: option}, f"{g.name}: {_difference(base[g.name], option)}"


def _difference(before: GroupConfig, after: GroupConfig) -> str:
    changes = [f"{key} {getattr(before, key)} -> {value}" for key, value in after.model_dump().items()
               if getattr(before, key) != value]
    return ", ".join(changes) or "same configuration"
