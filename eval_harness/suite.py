"""Running a whole suite: baselines for every problem, and a verdict for each candidate found."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .evaluator import Evaluator
from .problem import Problem
from .results import Environment, EvalResult, EvalStatus
from .scoring import SuiteScore, score_suite
from .settings import EvalSettings

logger = logging.getLogger(__name__)


class ProblemRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem: str
    category: str | None
    reference: EvalResult
    candidate: EvalResult | None = None
    candidate_file: str | None = None


class ThroughputNote(BaseModel):
    """Warm-worker seconds per candidate, the first evaluation (which pays compilation) left out."""

    model_config = ConfigDict(frozen=True)

    candidates: int
    median_seconds_per_candidate: float | None
    first_candidate_seconds: float | None


class BenchReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    created_at: str
    suite: str
    complete: bool = True
    environment: Environment | None
    settings: EvalSettings
    records: list[ProblemRecord]
    score: SuiteScore
    score_where_candidate: SuiteScore
    throughput: ThroughputNote
    wall_seconds: float


def candidate_for(problem: Problem, candidates_dir: Path | None) -> Path | None:
    """A candidate is the file in `candidates_dir` with the problem's file name."""
    if candidates_dir is None:
        return None
    file = candidates_dir / f"{problem.name}.py"
    return file if file.is_file() else None


def _throughput(seconds: list[float]) -> ThroughputNote:
    warm = sorted(seconds[1:])
    return ThroughputNote(
        candidates=len(seconds),
        median_seconds_per_candidate=warm[len(warm) // 2] if warm else None,
        first_candidate_seconds=seconds[0] if seconds else None,
    )


class BenchRun:
    """A suite run that can be reported at any point, so an interrupted run keeps what it measured."""

    def __init__(self, evaluator: Evaluator, *, suite: str, candidates_dir: Path | None = None) -> None:
        self.evaluator = evaluator
        self.suite = suite
        self.candidates_dir = candidates_dir
        self.records: list[ProblemRecord] = []
        self._candidate_seconds: list[float] = []
        self._started = time.perf_counter()

    def run_problem(self, problem: Problem) -> ProblemRecord:
        reference = self.evaluator.baselines(problem)
        candidate_file = candidate_for(problem, self.candidates_dir)
        candidate = None
        if candidate_file is not None and reference.status is EvalStatus.CORRECT:
            t0 = time.perf_counter()
            candidate = self.evaluator.evaluate(
                problem, candidate_file.read_text(), name=problem.name, baselines=reference.baselines
            )
            self._candidate_seconds.append(time.perf_counter() - t0)
        record = ProblemRecord(
            problem=problem.name,
            category=problem.category,
            reference=reference,
            candidate=candidate,
            candidate_file=str(candidate_file) if candidate_file else None,
        )
        self.records.append(record)
        return record

    def report(self, *, complete: bool) -> BenchReport:
        environment = next((r.reference.environment for r in self.records if r.reference.environment), None)
        return BenchReport(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            suite=self.suite,
            complete=complete,
            environment=environment,
            settings=self.evaluator.settings,
            records=list(self.records),
            # fast_p counts every problem; the second score, over problems that had a candidate, is
            # what a partial candidate set (hand-written kernels for a few problems) is judged by.
            score=score_suite([r.candidate for r in self.records]),
            score_where_candidate=score_suite([r.candidate for r in self.records if r.candidate is not None]),
            throughput=_throughput(self._candidate_seconds),
            wall_seconds=time.perf_counter() - self._started,
        )
