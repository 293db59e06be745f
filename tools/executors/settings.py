"""Where evaluations run and where their verdicts are remembered: one typed object, built at the entry point."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ExecutorKind(StrEnum):
    LOCAL = "local"  # a harness worker per device of this machine
    RAY = "ray"  # a long-lived actor per GPU on every node of a Ray cluster


def default_results_path() -> Path:
    return Path.home() / ".cache" / "kevolve" / "results.sqlite"


class ResultCacheSettings(BaseModel):
    """The verdicts store shared by every run on the machine (SQLite) or the cluster (PostgreSQL)."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = True
    sqlite_path: Path = Field(default_factory=default_results_path)
    database_url: str | None = Field(default=None, description="a PostgreSQL URL: used instead of SQLite when set")


class ExecutorSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ExecutorKind = ExecutorKind.LOCAL
    ray_address: str | None = Field(
        default=None, description="the cluster to join (ray.init(address=...)); None: start or join a local one"
    )
    ray_cpu_actors: int = Field(
        default=0, ge=0,
        description="actors that evaluate on the CPU (Triton's interpreter); for clusters without GPUs and for tests",
    )
    ray_max_gpus: int | None = Field(default=None, ge=1, description="use at most this many of the cluster's GPUs")
    results: ResultCacheSettings = ResultCacheSettings()

    @model_validator(mode="after")
    def _address_needs_ray(self) -> ExecutorSettings:
        if self.ray_address is not None and self.kind is not ExecutorKind.RAY:
            raise ValueError("a Ray address is only used with the ray executor (--executor ray)")
        return self
