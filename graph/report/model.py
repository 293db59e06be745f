"""What the morning report says, as data: the JSON file is this model, and the page and markdown render it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field

from kevolve.eval_harness.scoring import SuiteScore


class Speedup(BaseModel):
    """The ratio of medians (baseline over kernel) and its 95% interval."""

    model_config = ConfigDict(frozen=True)

    median: float
    low: float
    high: float


class RooflinePoint(BaseModel):
    """The best kernel against its device's ceilings; peaks are None where the device has no spec."""

    model_config = ConfigDict(frozen=True)

    flops: int
    bytes: int
    median_ms: float
    peak_tflops: float | None
    bandwidth_gbps: float | None
    bound: str | None

    @computed_field
    @property
    def intensity(self) -> float | None:
        return self.flops / self.bytes if self.bytes and self.flops else None

    @computed_field
    @property
    def achieved_tflops(self) -> float:
        return self.flops / (self.median_ms * 1e-3) / 1e12

    @computed_field
    @property
    def achieved_gbps(self) -> float:
        return self.bytes / (self.median_ms * 1e-3) / 1e9


class DeviceResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    device: str
    device_name: str | None = None
    rounds: int
    candidates: int
    best_node: str | None = None
    best_written_by: str | None = Field(default=None, description="the offline engine, a seed, or the model and "
                                        "its call; None where the run did not record it")
    fitness: float | None = Field(default=None, description="over the faster baseline")
    over_eager: Speedup | None = None
    over_compiled: Speedup | None = None
    percent_of_light: float | None = None
    best_history: list[float] = Field(default_factory=list, description="best fitness after each round")
    gpu_minutes_to_best: float | None = Field(default=None, description="what the evaluations of every round up to "
                                              "the one that found the best kernel spent in the harness's workers; "
                                              "None without a best, or where they ran on the CPU")
    stop: str | None = None
    approval: str
    roofline: RooflinePoint | None = None


class ProblemResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    run_id: str | None
    state: str
    devices: list[DeviceResult] = Field(default_factory=list)
    tokens: int = 0
    llm_usd: float = 0.0
    gpu_hours: float = 0.0
    cost_usd: float = Field(default=0.0, description="LLM dollars plus GPU-hours at the spec's price")

    @computed_field
    @property
    def best_fitness(self) -> float | None:
        values = [device.fitness for device in self.devices if device.fitness is not None]
        return max(values) if values else None


class DeviceUse(BaseModel):
    """How well a campaign kept a device busy, from the times its evaluations started and ended."""

    model_config = ConfigDict(frozen=True)

    device: str
    device_name: str | None = Field(default=None, description="the GPU model its evaluations reported")
    busy_fraction: float = Field(description="of the campaign's wall time, an evaluation ran on it")
    candidates: int
    candidates_per_gpu_hour: float = Field(description="candidates judged per hour of the device held")

    @property
    def label(self) -> str:
        return f"{self.device} ({self.device_name})" if self.device_name else self.device


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="campaign or run")
    id: str
    title: str
    generated_at: str
    wall_s: float
    auto_approve: bool
    regime: str | None = Field(default=None, description="the precision regime every figure holds for "
                               "(MathMode.label); None in reports from before regimes")
    gpu_usd_per_hour: float
    problems: list[ProblemResult]
    fast_p: dict[str, SuiteScore] = Field(description="per device, over every problem of the campaign")
    device_use: list[DeviceUse] = Field(default_factory=list, description="campaigns only")

    @computed_field
    @property
    def median_gpu_minutes_to_best(self) -> float | None:
        """Over every problem and device whose search kept a kernel timed on a GPU."""
        minutes = sorted(d.gpu_minutes_to_best for p in self.problems for d in p.devices
                         if d.gpu_minutes_to_best is not None)
        if not minutes:
            return None
        middle = len(minutes) // 2
        return minutes[middle] if len(minutes) % 2 else (minutes[middle - 1] + minutes[middle]) / 2

    @computed_field
    @property
    def totals(self) -> dict[str, float]:
        return {
            "tokens": sum(p.tokens for p in self.problems), "llm_usd": sum(p.llm_usd for p in self.problems),
            "gpu_hours": sum(p.gpu_hours for p in self.problems), "cost_usd": sum(p.cost_usd for p in self.problems),
        }
