"""A campaign at one moment: each problem's progress read from its run, what was spent, what is left, and an
estimate of the finish. The live view, `kevolve campaign status` and the scheduler's decisions all read it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..run_directory import TASK_FILE, RunDirectory
from ..runner import OptimizationRun
from .device_clock import busy_by_device
from .expectation import DeviceProgress
from .round_driver import RunPhase, phase
from .spec import CampaignSpec, Limits
from .store import CampaignRecord, EvaluationInterval, ProblemEntry, ProblemState

HOUR_S = 3600.0


class DeviceRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    device: str
    rounds: int
    best_history: list[float]
    best_fitness: float | None
    speedup_eager: float | None
    speedup_compiled: float | None
    percent_of_light: float | None
    active: bool
    stop: str | None
    approval: str


class ProblemRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    state: ProblemState
    detail: str | None = None
    run_id: str | None = None
    devices: list[DeviceRow] = Field(default_factory=list)
    tokens: int = 0
    llm_usd: float = 0.0
    wall_s: float = Field(default=0.0, description="time in rounds, from the run's own clock")
    gpu_s: float = 0.0
    candidates: int = 0

    @property
    def rounds(self) -> int:
        return max((device.rounds for device in self.devices), default=0)

    def progress(self) -> list[DeviceProgress]:
        return [DeviceProgress(best_history=d.best_history, percent_of_light=d.percent_of_light, active=d.active)
                for d in self.devices]


class Spend(BaseModel):
    model_config = ConfigDict(frozen=True)

    wall_s: float = 0.0
    gpu_s: float = 0.0
    tokens: int = 0
    usd: float = 0.0

    def exceeds(self, limits: Limits) -> str | None:
        """The first limit reached, by name, or None."""
        checks = [
            ("wall time", self.wall_s / HOUR_S, limits.wall_hours),
            ("GPU-hours", self.gpu_s / HOUR_S, limits.gpu_hours),
            ("tokens", self.tokens, limits.tokens),
            ("money", self.usd, limits.usd),
        ]
        return next((name for name, spent, limit in checks if limit is not None and spent >= limit), None)


class CampaignSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    auto_approve: bool
    problems: list[ProblemRow]
    spent: Spend
    limits: Limits
    busy_s: dict[str, float] = Field(description="per device: time during which an evaluation ran")
    in_flight: list[str] = Field(default_factory=list)
    eta_s: float | None = Field(default=None, description="estimated seconds to the finish")


def problem_row(entry: ProblemEntry, optimization: OptimizationRun | None, *, gpu_s: float) -> ProblemRow:
    """The entry with its run's progress; a problem without a run (yet) has only its state."""
    if optimization is None or not optimization.started:
        return ProblemRow(name=entry.name, state=entry.state, detail=entry.detail, run_id=entry.run_id, gpu_s=gpu_s)
    state = optimization.state()
    devices = []
    for device, search in state["searches"].items():
        best = search.best
        outcome = best.outcome if best is not None else None
        devices.append(DeviceRow(
            device=device, rounds=search.rounds, best_history=list(search.best_history),
            best_fitness=outcome.fitness if outcome else None,
            speedup_eager=outcome.speedup_eager if outcome else None,
            speedup_compiled=outcome.speedup_compiled if outcome else None,
            percent_of_light=outcome.percent_of_light if outcome else None,
            active=search.active, stop=search.stop.value if search.stop else None, approval=search.approval.value,
        ))
    usage = state["usage"]
    return ProblemRow(
        name=entry.name, state=entry.state, detail=entry.detail, run_id=entry.run_id, devices=devices,
        tokens=usage.total_tokens, llm_usd=usage.cost_usd, wall_s=state["elapsed_s"], gpu_s=gpu_s,
        candidates=sum(len(search.nodes) for search in state["searches"].values()),
    )


def read_problem(entry: ProblemEntry, runs_root: Path) -> tuple[ProblemRow, RunPhase | None]:
    """The entry's progress read from its run, and where the run stands (None: not started yet)."""
    folder = runs_root / entry.run_id if entry.run_id else None
    if folder is None or not (folder / TASK_FILE).is_file():
        return problem_row(entry, None, gpu_s=0.0), None
    with OptimizationRun(RunDirectory(folder)) as optimization:
        reached = phase(optimization) if optimization.started else None
        return problem_row(entry, optimization, gpu_s=0.0), reached


def read_snapshot(record: CampaignRecord, entries: list[ProblemEntry], intervals: list[EvaluationInterval], *,
                  runs_root: Path) -> CampaignSnapshot:
    """The campaign as its store and runs say, without changing either (`kevolve campaign status`, reports)."""
    gpu = gpu_seconds_by_run(intervals)
    rows = [read_problem(entry, runs_root)[0] for entry in entries]
    rows = [row.model_copy(update={"gpu_s": gpu.get(row.run_id, 0.0) if row.run_id else 0.0}) for row in rows]
    return snapshot(record, rows, intervals, elapsed_s=record.elapsed_s)


def gpu_seconds_by_run(intervals: Iterable[EvaluationInterval]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for interval in intervals:
        totals[interval.run_id] = totals.get(interval.run_id, 0.0) + interval.ended_at - interval.started_at
    return totals


def estimate_finish_s(rows: list[ProblemRow], spec: CampaignSpec, *, elapsed_s: float) -> float | None:
    """Rounds left (each unfinished problem to its round budget) times the mean round so far, spread over the
    problems that run at once; never past the wall-time budget. None before any round ended."""
    rounds_done = sum(row.rounds for row in rows)
    if rounds_done == 0:
        return None
    mean_round_s = sum(row.wall_s for row in rows) / rounds_done
    max_rounds = spec.search.budget.max_rounds
    unfinished = [row for row in rows if row.state in (ProblemState.PENDING, ProblemState.SEARCHING)]
    rounds_left = sum(max((max_rounds or row.rounds + 1) - row.rounds, 0) for row in unfinished)
    parallel = max(min(spec.scheduling.problems_in_flight, len(unfinished)), 1)
    estimate = rounds_left * mean_round_s / parallel
    wall_limit = spec.budget.wall_hours
    return estimate if wall_limit is None else min(estimate, max(wall_limit * HOUR_S - elapsed_s, 0.0))


def snapshot(record: CampaignRecord, rows: list[ProblemRow], intervals: list[EvaluationInterval], *,
             elapsed_s: float, in_flight: Iterable[str] = ()) -> CampaignSnapshot:
    spent = Spend(wall_s=elapsed_s, gpu_s=sum(row.gpu_s for row in rows), tokens=sum(row.tokens for row in rows),
                  usd=sum(row.llm_usd for row in rows))
    return CampaignSnapshot(
        id=record.id, name=record.spec.name, auto_approve=record.auto_approve, problems=rows, spent=spent,
        limits=record.spec.budget, busy_s=busy_by_device(intervals), in_flight=sorted(in_flight),
        eta_s=estimate_finish_s(rows, record.spec, elapsed_s=elapsed_s),
    )
