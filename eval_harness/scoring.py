"""Suite-level scores: fast_p and geometric-mean speedups over a set of verdicts.

fast_p is the fraction of *all* problems (not only the correct ones) whose candidate is correct
and more than p times faster than the baseline. A problem with no candidate, or whose speedup is
not meaningful (CPU), counts as a failure, so a suite's score never rises by skipping problems.

"Faster by more than p" is judged on the lower end of the speedup's 95% interval, less the
run-to-run margin of `compare.MIN_EFFECT`, not on the ratio of medians: with the point ratio, a
candidate indistinguishable from torch.compile counts as faster half of the time, by noise alone.
`fast_p_point` keeps KernelBench's point-ratio definition beside it, for comparison with
published numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from .compare import MIN_EFFECT
from .results import EvalResult

FAST_P_THRESHOLDS: tuple[float, ...] = (0.0, 1.0, 1.5, 2.0)
BASELINES: tuple[str, ...] = ("eager", "compiled")


class BaselineScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    baseline: str
    fast_p: dict[str, float] = Field(description="correct and the speedup's 95% lower bound above p")
    fast_p_point: dict[str, float] = Field(description="correct and the ratio of medians above p")
    geomean_speedup: float | None
    problems_with_speedup: int


class SuiteScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    problems: int
    correct: int
    scores: list[BaselineScore]


def fast_p(speedups: Sequence[float | None], correct: Sequence[bool], p: float) -> float:
    """`speedups[i]` is None where no meaningful figure exists; such problems never succeed."""
    if not speedups:
        return 0.0
    wins = sum(1 for s, ok in zip(speedups, correct, strict=True) if ok and s is not None and s > p)
    return wins / len(speedups)


def geometric_mean(values: Sequence[float]) -> float | None:
    positive = [v for v in values if v > 0]
    if not positive:
        return None
    return math.exp(sum(math.log(v) for v in positive) / len(positive))


def score_suite(results: Sequence[EvalResult | None]) -> SuiteScore:
    """`None` stands for a problem that had no candidate: it counts, and it fails."""
    correct = [r is not None and r.correct for r in results]
    scores = []
    for baseline in BASELINES:
        comparisons = [r.comparison_with(baseline) if r is not None else None for r in results]
        point = [c.speedup if c else None for c in comparisons]
        confident = [c.ci_low / (1.0 + MIN_EFFECT) if c else None for c in comparisons]
        measured = [s for s, ok in zip(point, correct, strict=True) if ok and s is not None]
        scores.append(
            BaselineScore(
                baseline=baseline,
                fast_p={f"{p:g}": fast_p(confident, correct, p) for p in FAST_P_THRESHOLDS},
                fast_p_point={f"{p:g}": fast_p(point, correct, p) for p in FAST_P_THRESHOLDS},
                geomean_speedup=geometric_mean(measured),
                problems_with_speedup=len(measured),
            )
        )
    return SuiteScore(problems=len(results), correct=sum(correct), scores=scores)
