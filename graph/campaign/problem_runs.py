"""A campaign problem's run: the task it is started with, and opening it again after a kill."""

from __future__ import annotations

from pathlib import Path

from kevolve.eval_harness.problem import load_problem

from ..configuration import Budget
from ..run_directory import TASK_FILE, RunDirectory
from ..runner import OptimizationRun
from ..state import RunSources, TaskSpec
from .services import CampaignServices
from .spec import CampaignSpec
from .store import CampaignRecord, ProblemEntry

HOUR_S = 3600.0


class RunFolderDamaged(RuntimeError):
    """A problem's run folder exists without its task file: created by a process killed at that instant."""


def run_budget(spec: CampaignSpec) -> Budget:
    """The search's own budget, tightened by the per-problem wall time, tokens and money (the run enforces
    those itself; GPU-hours are the campaign's to count)."""
    budget, share = spec.search.budget, spec.per_problem
    return budget.model_copy(update={
        "wall_seconds": _tighter(budget.wall_seconds, share.wall_hours * HOUR_S if share.wall_hours else None),
        "max_tokens": _tighter(budget.max_tokens, share.tokens),
        "max_cost_usd": _tighter(budget.max_cost_usd, share.usd),
    })


def problem_task(record: CampaignRecord, entry: ProblemEntry, run_id: str, *, library: Path) -> TaskSpec:
    spec = record.spec
    evaluation = spec.evaluation_settings()
    search = spec.search.model_copy(update={"budget": run_budget(spec), "auto_approve": record.auto_approve})
    return TaskSpec(
        run_id=run_id, problem_path=entry.path, problem_name=entry.name, problem_source=load_problem(entry.path).source,
        devices=list(spec.devices),
        policy=evaluation.policy.value, search=search, evaluation=evaluation,
        sources=RunSources(seeds=str(spec.path(spec.seeds)) if spec.seeds else None, knowledge=spec.knowledge,
                           library=str(library.resolve())),
    )


def open_problem_run(
    record: CampaignRecord, entry: ProblemEntry, *, runs_root: Path, services: CampaignServices, library: Path,
    postgres_checkpoints: bool,
) -> OptimizationRun:
    """The entry's run (its id already in the store), created first if it is not on disk yet."""
    assert entry.run_id is not None, "a run id is stored before its run is created"
    folder = runs_root / entry.run_id
    if not (folder / TASK_FILE).is_file():
        if folder.exists():
            raise RunFolderDamaged(f"{folder} has no {TASK_FILE}: move it away and resume the campaign")
        RunDirectory.create(runs_root, problem_task(record, entry, entry.run_id, library=library),
                            postgres_checkpoints=postgres_checkpoints)
    return OptimizationRun(RunDirectory(folder), services.for_run(entry.run_id), library=library)


def _tighter(first: float | None, second: float | None) -> float | None:
    values = [value for value in (first, second) if value is not None]
    return min(values) if values else None
