"""How an evaluation is run: trials, tolerances, time limits. One typed object, built by the caller."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .precision import DType, MathMode, Precision, legacy_mode, resolve
from .results import Stage, Tolerance
from .tolerances import regime_tolerance


class Policy(StrEnum):
    """What a candidate may leave to PyTorch (see the static and dynamic checks)."""

    STRICT = "strict"  # every computation of the reference runs in the candidate's own kernels
    # vendor GEMM, convolution and fused-attention calls may stay; at least one custom kernel must run
    HYBRID = "hybrid"


class StageTimeouts(BaseModel):
    """Seconds each stage may take before the worker is killed; compilation makes the first slow."""

    model_config = ConfigDict(frozen=True)

    load_problem_s: float = 120.0
    load_candidate_s: float = 300.0  # CUDA C++ candidates compile at import (load_inline)
    construct_s: float = 60.0
    correctness_s: float = 300.0
    timing_s: float = 180.0
    dynamic_check_s: float = 300.0
    profile_s: float = 120.0
    baseline_s: float = 600.0

    def for_stage(self, stage: Stage) -> float:
        return float(getattr(self, f"{stage.value}_s"))


class TimingSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    warmup_calls: int = Field(default=10, ge=1)
    warmup_ms: float = Field(default=50.0, ge=0, description="keep warming up until this much time ran")
    trials: int = Field(default=100, ge=5, description="timed calls, unless max_seconds runs out first")
    max_seconds: float = Field(default=5.0, gt=0, description="time bound for slow calls")
    min_trials_when_slow: int = Field(
        default=20, ge=5, description="if max_seconds runs out first, still at least this many trials"
    )
    input_sets: int = Field(default=4, ge=1, description="rotate among this many input sets")
    input_set_budget_bytes: int = Field(
        default=4 << 30, description="fewer rotating sets when one set is large, to fit the device"
    )
    flush_l2: bool = True


class EvalSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    math: MathMode = Field(
        default_factory=lambda: resolve(Precision.EXACT),
        description="the regime made concrete by the caller; the worker applies it, never re-resolves it",
    )
    policy: Policy = Policy.STRICT
    correctness_trials: int = Field(default=5, ge=1)
    extra_config_trials: int = Field(default=1, ge=1)
    tolerance: Tolerance | None = Field(default=None, description="None: the regime's (eval_harness/tolerances.py)")
    check_extra_configs: bool = True
    timing: TimingSettings = TimingSettings()
    timeouts: StageTimeouts = StageTimeouts()
    host_memory_limit_bytes: int = Field(
        default=32 << 30, description="resident memory at which the worker is killed and replaced"
    )
    seed: int | None = Field(default=None, description="None: a fresh random seed per evaluation")
    measure_compile_baseline: bool = True
    profile: bool = Field(default=True, description="kernel profile and speed of light in each result")
    static_checks: bool = Field(
        default=True,
        description="read the source for forbidden constructs first; off only to test the worker's own defences",
    )

    @model_validator(mode="before")
    @classmethod
    def _regime_from_dtype(cls, data: Any) -> Any:
        """Settings written before regimes (task.json, checkpoints, campaign state) name a dtype instead."""
        if isinstance(data, dict) and "dtype" in data:
            data = dict(data)
            dtype = DType(data.pop("dtype"))
            data.setdefault("math", legacy_mode(dtype))
        return data

    @property
    def dtype(self) -> DType:
        """The dtype floating inputs and parameters take: the regime's."""
        return self.math.dtype

    def resolved_tolerance(self, *, tf32: bool = False) -> Tolerance:
        """The given tolerance, else the regime's; `tf32`: the reference computes in TF32 (tolerances.tf32_applies)."""
        return self.tolerance or regime_tolerance(self.math, tf32=tf32)
