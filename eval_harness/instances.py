"""Problem and candidate objects inside the worker: modules per config, models, seeded inputs.

Weights convention (KernelBench's): the reference `Model` and the candidate `ModelNew` are each
built right after `torch.manual_seed(seed)` with the same seed and the same init inputs, so a
candidate that creates the same parameters in the same order starts from identical weights.

Inputs and weights are created with the evaluation's device as the default device: a problem's
`torch.randn(...)` then draws on the GPU, which for multi-GB inputs is seconds faster than drawing
on the CPU and copying. Reference and candidate draw from the same generator, so they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from .failures import StageFailure, candidate_failure, problem_failure
from .module_loader import module_from_source
from .problem import Problem
from .results import ErrorKind, EvalStatus, Stage
from .tensors import as_output_list, place, poison_allocator

# Inputs use a seed stream apart from the weights', so equal seeds never tie inputs to weights.
_INPUT_SEED_OFFSET = 1_000_003


@dataclass
class ProblemInstance:
    """One configuration of one problem, loaded in the worker."""

    problem: Problem
    config: str
    module: ModuleType
    device: torch.device
    dtype: torch.dtype

    def init_inputs(self) -> list[Any]:
        try:
            return list(self.module.get_init_inputs())
        except Exception as exc:
            raise problem_failure(exc, Stage.CONSTRUCT) from exc

    def inputs(self, seed: int) -> list[Any]:
        torch.manual_seed(seed + _INPUT_SEED_OFFSET)
        try:
            with self.device:
                raw = self.module.get_inputs()
        except Exception as exc:
            raise problem_failure(exc, Stage.CORRECTNESS) from exc
        return list(place(list(raw), self.device, self.dtype))

    def reference(self, seed: int) -> nn.Module:
        init = self.init_inputs()
        torch.manual_seed(seed)
        try:
            with self.device:
                model = self.module.Model(*init)
        except Exception as exc:
            raise problem_failure(exc, Stage.CONSTRUCT) from exc
        return model.to(device=self.device, dtype=self.dtype)

    def candidate(self, candidate_cls: type, seed: int) -> nn.Module:
        init = self.init_inputs()
        torch.manual_seed(seed)
        try:
            with self.device:
                model = candidate_cls(*init)
            if not isinstance(model, nn.Module):
                raise TypeError(f"ModelNew(...) returned {type(model).__name__}, not an nn.Module")
            return model.to(device=self.device, dtype=self.dtype)
        except Exception as exc:
            raise candidate_failure(exc, Stage.CONSTRUCT) from exc


@dataclass
class LoadedProblem:
    """A problem's modules, one per configuration, loaded on first use and kept by the worker."""

    problem: Problem
    device: torch.device
    dtype: torch.dtype
    workdir: Path
    _instances: dict[str, ProblemInstance] = field(default_factory=dict)

    def instance(self, config: str) -> ProblemInstance:
        if config not in self._instances:
            try:
                module = module_from_source(
                    self.problem.source,
                    stem=self.problem.name,
                    workdir=self.workdir,
                    overrides=self.problem.overrides(config),
                )
            except Exception as exc:
                raise problem_failure(exc, Stage.LOAD_PROBLEM) from exc
            self._instances[config] = ProblemInstance(self.problem, config, module, self.device, self.dtype)
        return self._instances[config]


def load_candidate_class(source: str, *, name: str, workdir: Path) -> type:
    try:
        module = module_from_source(source, stem=name, workdir=workdir)
    except BaseException as exc:  # SystemExit from a candidate's import is its failure, not ours
        raise candidate_failure(exc, Stage.LOAD_CANDIDATE) from exc
    candidate_cls = getattr(module, "ModelNew", None)
    if not isinstance(candidate_cls, type):
        raise StageFailure(
            ErrorKind.MISSING_MODEL_NEW,
            Stage.LOAD_CANDIDATE,
            "the candidate defines no class ModelNew",
            status=EvalStatus.ERROR,
        )
    return candidate_cls


def call_model(model: nn.Module, inputs: Sequence[Any]) -> Any:
    with torch.no_grad():
        return model(*inputs)


# Poisoning more than this per call costs time without catching more: outputs are smaller.
_POISON_BUDGET_BYTES = 8 << 30


def run_into_poisoned_memory(model: nn.Module, inputs: Sequence[Any], device: torch.device) -> list[Any]:
    """One forward whose allocations come from NaN-filled memory, finished before returning."""
    poison_allocator(device, _POISON_BUDGET_BYTES)
    output = call_model(model, inputs)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return as_output_list(output)
