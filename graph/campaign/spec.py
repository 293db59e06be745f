"""A campaign's YAML file: which problems, on which devices, judged how, searched how, within which budgets.

    name: overnight
    problems: [../../eval_harness/problems/, some/one_problem.py, "kernels/level1/*_norm*.py"]
    devices: [cuda:0]
    policy: strict
    precision: default                                                   # exact, default, tf32, bf16, fp16
    search: {selection: greedy, patience: 3, budget: {max_rounds: 10}}   # SearchSettings
    evaluation: {correctness_trials: 5}                                  # EvalSettings, optional
    budget: {wall_hours: 8, gpu_hours: 8, tokens: 2000000, usd: 40}       # the whole campaign
    per_problem: {gpu_hours: 0.5, usd: 2}                                # each problem
    stopping: {min_gain_per_usd: 0.05, gpu_usd_per_hour: 2.5}
    scheduling: {problems_in_flight: 4}

`precision` is resolved when the spec is read (`default`: the PyTorch flags of the process that reads
it) and kept, as a concrete MathMode, in the campaign's state, so a resumed campaign judges alike.
A spec written before regimes, with `dtype:`, still loads: float32 is `exact`, bfloat16 `bf16`,
float16 `fp16`, each with TF32 off as then.

Relative paths are read from the spec file's folder, so a spec works from any working directory.
A folder gives every problem file directly in it (a KernelBench level folder works as it is), a glob
every problem file it matches, a file itself.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kevolve.eval_harness.precision import USER_DEFAULT, DType, MathMode, Precision, legacy_mode, resolve
from kevolve.eval_harness.problem import Problem, load_problem, load_problem_dir
from kevolve.eval_harness.settings import EvalSettings, Policy
from kevolve.tools.yaml_file import read_yaml

from ..configuration import SearchSettings
from .spec_keys import unknown_keys


class CampaignSpecError(ValueError):
    """A spec file that cannot be read, does not validate, or names no problem."""


class Limits(BaseModel):
    """Budgets; None means unbounded. Money is what the LLM calls cost (the LLM settings' price table)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wall_hours: float | None = Field(default=None, gt=0)
    gpu_hours: float | None = Field(default=None, gt=0, description="time an evaluation held a device")
    tokens: int | None = Field(default=None, ge=1)
    usd: float | None = Field(default=None, gt=0)


class Stopping(BaseModel):
    """Cost-aware stopping and allocation (see kevolve.graph.campaign.expectation for the formula)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_gain_per_usd: float = Field(
        default=0.0, ge=0, description="stop a problem when its expected log-fitness gain per dollar falls below this"
    )
    gpu_usd_per_hour: float = Field(default=2.5, ge=0, description="what an hour of device time costs")
    smoothing: float = Field(default=0.5, gt=0, le=1, description="weight of the latest round in the running mean")
    prior_log_gain: float = Field(default=0.2, ge=0, description="expected log gain per round before any round ran")
    min_rounds: int = Field(default=2, ge=1, description="rounds every problem gets before the expectation can stop it")


class Scheduling(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    problems_in_flight: int = Field(default=4, ge=1, description="problems whose rounds run at once")


class CampaignSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    problems: list[str] = Field(min_length=1, description="files, folders or globs")
    devices: list[str] = Field(min_length=1)
    policy: Policy = Policy.STRICT
    precision: Precision = USER_DEFAULT
    search: SearchSettings = SearchSettings()
    evaluation: EvalSettings = Field(
        default_factory=EvalSettings, description="the policy comes from above, the regime (math) from `precision`")
    budget: Limits = Limits()
    per_problem: Limits = Limits()
    stopping: Stopping = Stopping()
    scheduling: Scheduling = Scheduling()
    seeds: str | None = Field(default=None, description="a folder of hand-written candidates for the offline coder")
    knowledge: bool = True
    offline_engine: bool = Field(default=True, description="candidates generated from the traced reference")
    base_dir: str = Field(default=".", description="where relative paths start: the spec file's folder")

    @model_validator(mode="before")
    @classmethod
    def _resolve_regime(cls, data: Any) -> Any:
        """`precision` made concrete in evaluation.math, once: a stored campaign keeps the mode it started with."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        evaluation = data.get("evaluation") or {}
        if isinstance(evaluation, EvalSettings):  # built in code: the regime is still `precision`'s
            evaluation = evaluation.model_dump(exclude={"math"})
        if not isinstance(evaluation, dict):
            return data
        if "dtype" in data:  # a spec, or campaign state, from before regimes
            legacy = legacy_mode(DType(data.pop("dtype")))
            data.setdefault("precision", legacy.precision.value)
            evaluation = {key: value for key, value in evaluation.items() if key != "dtype"}
            evaluation.setdefault("math", legacy)
        elif "dtype" in evaluation:
            raise ValueError("evaluation.dtype is replaced by precision (exact, default, tf32, bf16 or fp16)")
        precision = Precision(data.get("precision", USER_DEFAULT))
        math = evaluation.get("math")
        if math is None:
            evaluation = {**evaluation, "math": resolve(precision)}
        elif MathMode.model_validate(math).precision is not precision:
            raise ValueError(f"evaluation.math is not the regime precision names ({precision.value}): give precision")
        data["evaluation"] = evaluation
        return data

    def evaluation_settings(self) -> EvalSettings:
        return self.evaluation.model_copy(update={"policy": self.policy})

    def path(self, relative: str) -> Path:
        return (Path(self.base_dir) / relative).resolve()

    def resolve_problems(self) -> list[Problem]:
        """Every problem the entries name, in their order, each once; raises CampaignSpecError for an entry
        that names nothing."""
        found: dict[str, Problem] = {}
        for entry in self.problems:
            for problem in self._problems_of(entry):
                if problem.name in found and found[problem.name].path != problem.path:
                    raise CampaignSpecError(f"two problems are named {problem.name!r}: "
                                            f"{found[problem.name].path} and {problem.path}")
                found.setdefault(problem.name, problem)
        return list(found.values())

    def _problems_of(self, entry: str) -> list[Problem]:
        target = self.path(entry)
        if target.is_dir():
            return load_problem_dir(target)
        if target.is_file():
            return [load_problem(target)]
        matches = sorted(Path(match) for match in glob.glob(str(target), recursive=True))
        files = [match for match in matches if match.suffix == ".py" and match.is_file()]
        if not files:
            raise CampaignSpecError(f"problems: {entry!r} matches no file or folder (looked at {target})")
        return [load_problem(file) for file in files]


def load_spec(path: Path) -> CampaignSpec:
    document = read_yaml(path, CampaignSpecError)
    if not isinstance(document, dict):
        raise CampaignSpecError(f"{path}: expected a mapping with name, problems and devices")
    document.setdefault("base_dir", str(path.resolve().parent))
    typos = unknown_keys(CampaignSpec, document)
    if typos:
        raise CampaignSpecError(f"{path}: {'; '.join(typos)}")
    try:
        return CampaignSpec.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise CampaignSpecError(f"{path}: {problems}") from None
