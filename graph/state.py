"""The graph's state: the task, one search tree per device, the round in flight, and what it cost.

Every value is an immutable pydantic model and every node returns new values, so each checkpoint
LangGraph writes is one consistent picture of the run: a run killed between two steps resumes
from the last one, losing at most the candidates that were in flight.
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.precision import MathMode
from kevolve.eval_harness.problem import Problem, load_problem, problem_from_source
from kevolve.eval_harness.settings import EvalSettings
from kevolve.tools.candidates import SearchNode
from kevolve.tools.llm.base import TokenUsage

from .configuration import SearchSettings
from .search_tree import DeviceSearch


class RunSources(BaseModel):
    """Where a run's proposals come from besides a configured model; kept so a resume uses the same."""

    model_config = ConfigDict(frozen=True)

    seeds: str | None = Field(default=None, description="folder of hand-written candidates for the offline coder")
    transcript: str | None = Field(default=None, description="replayed model replies")
    knowledge: bool = True
    engine: bool = Field(default=True, description="the offline engine writes candidates from the traced reference")
    library: str | None = Field(default=None, description="absolute path of the folder approved kernels go to; "
                                "None in runs made before it was kept (the default folder then)")
    results_db: str | None = Field(default=None, description="absolute path of the SQLite results cache named "
                                   "at the start, so a resume finds the verdicts already reached")


class TaskSpec(BaseModel):
    """What was asked: one problem, its target devices, the rules it is judged by, and the search settings."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    problem_path: str = Field(description="absolute path of the reference's file")
    problem_name: str
    problem_source: str | None = Field(
        default=None, description="the reference as the run started with it: a resume, on any host and after any "
        "edit of the file, judges against this; None in runs made before it was kept (the file is read then)")
    devices: list[str] = Field(min_length=1)
    policy: str
    search: SearchSettings = SearchSettings()
    evaluation: EvalSettings = Field(description="how the harness judges candidates, in which precision regime; "
                                     "kept so a resume judges alike (task files from before regimes name a dtype: "
                                     "EvalSettings maps it)")
    sources: RunSources = RunSources()

    @property
    def math(self) -> MathMode:
        return self.evaluation.math

    @property
    def dtype(self) -> str:
        return self.evaluation.dtype.value

    def problem(self) -> Problem:
        if self.problem_source is None:
            return load_problem(self.problem_path)
        return problem_from_source(self.problem_source, name=self.problem_name, path=self.problem_path)


def add_counts(left: dict[str, int], right: dict[str, int]) -> dict[str, int]:
    """Counts from both, summed per key; the keys keep the order they first appeared in."""
    merged = dict(left)
    for key, count in right.items():
        merged[key] = merged.get(key, 0) + count
    return merged


class OptimizeState(TypedDict, total=False):
    task: TaskSpec
    searches: dict[str, DeviceSearch]
    # This round's candidates as they pass plan -> code -> review -> evaluate -> analyze; merged into
    # the trees by `select_or_stop`.
    round_nodes: list[SearchNode]
    # Both are sums: each node returns what it spent, and time while a run was dead does not count.
    usage: Annotated[TokenUsage, operator.add]
    elapsed_s: Annotated[float, operator.add]
    # Coder replies that gave no module, by kind (kevolve.agents.coder.ReplyDefect): a small model's
    # failures are counted for the summary, not raised.
    reply_defects: Annotated[dict[str, int], add_counts]
    summary: str  # written by `finish`


def active_devices(state: OptimizeState) -> list[str]:
    return [device for device, search in state["searches"].items() if search.active]


def initial_state(task: TaskSpec) -> OptimizeState:
    return OptimizeState(
        task=task,
        searches={device: DeviceSearch(device=device) for device in task.devices},
        round_nodes=[],
        usage=TokenUsage(),
        elapsed_s=0.0,
        reply_defects={},
    )
