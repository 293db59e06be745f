"""Running a whole suite: baselines for every problem, and a verdict for each candidate found."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
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


def run_bench(
    evaluator: Evaluator,
    problems: Sequence[Problem],
    *,
    suite: str,
    candidates_dir: Path | None = None,
    on_record: Callable[[ProblemRecord], None] | None = None,
) -> BenchReport:
    started = time.perf_counter()
    records: list[ProblemRecord] = []
    candidate_seconds: list[float] = []
    environment: Environment | None = None
    for problem in problems:
        reference = evaluator.baselines(problem)
        environment = environment or reference.environment
        candidate_file = candidate_for(problem, candidates_dir)
        candidate = None
        if candidate_file is not None and reference.status is EvalStatus.CORRECT:
            t0 = time.perf_counter()
            candidate = evaluator.evaluate(
                problem, candidate_file.read_text(), name=problem.name, baselines=reference.baselines
            )
            candidate_seconds.append(time.perf_counter() - t0)
        record = ProblemRecord(
            problem=problem.name,
            category=problem.category,
            reference=reference,
            candidate=candidate,
            candidate_file=str(candidate_file) if candidate_file else None,
        )
        records.append(record)
        if on_record is not None:
            on_record(record)
    return BenchReport(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        suite=suite,
        environment=environment,
        settings=evaluator.settings,
        records=records,
        # fast_p counts every problem; the second score, over problems that had a candidate, is
        # what a partial candidate set (hand-written kernels for a few problems) is judged by.
        score=score_suite([r.candidate for r in records]),
        score_where_candidate=score_suite([r.candidate for r in records if r.candidate is not None]),
        throughput=_throughput(candidate_seconds),
        wall_seconds=time.perf_counter() - started,
    )
