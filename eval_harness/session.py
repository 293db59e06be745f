"""What a worker keeps between evaluations: device facts, loaded problems, per-problem facts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from kevolve.hardware_specs import HardwareSpec

from .instances import LoadedProblem
from .integrity import IntegritySnapshot
from .problem import Problem
from .results import Environment
from .settings import EvalSettings


@dataclass
class WorkerSession:
    device: torch.device
    spec: HardwareSpec | None
    environment: Environment
    l2_flush_bytes: int
    workdir: Path
    integrity: IntegritySnapshot
    problems: dict[tuple[str, str], LoadedProblem] = field(default_factory=dict)
    # Facts about a problem that do not depend on the candidate (baselines, sanity, operators,
    # speed of light), computed once per (fact, problem, regime, config) and reused: one worker
    # serves requests of different regimes, and a baseline timed with TF32 on says nothing of one without.
    facts: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)

    def loaded(self, problem: Problem, settings: EvalSettings) -> LoadedProblem:
        key = (problem.sha256, settings.dtype.value)
        if key not in self.problems:
            self.problems[key] = LoadedProblem(
                problem, self.device, getattr(torch, settings.dtype.value), self.workdir
            )
        return self.problems[key]

    def fact(self, name: str, problem: Problem, settings: EvalSettings, config: str, compute: Callable[[], Any]):
        key = (name, problem.sha256, settings.math.key, config)
        if key not in self.facts:
            self.facts[key] = compute()
        return self.facts[key]

    @property
    def on_cpu(self) -> bool:
        return self.device.type == "cpu"
