"""Is a candidate faster than a baseline, with confidence, rather than by one noisy median?

A bootstrap over both sample sets gives a confidence interval for the ratio of medians; the
verdict is "faster" only when the whole interval lies above 1 + MIN_EFFECT (and "slower" when it
lies below 1 - MIN_EFFECT). The margin is there because the bootstrap sees only the noise within
one run: the same kernel timed in two runs on these machines differs by up to a few percent (clock
and thermal state), so a 0.3% difference with a tight interval is still not a real speedup.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from .results import SpeedComparison, TimingStats

MIN_EFFECT = 0.02


class Verdict(StrEnum):
    FASTER = "faster"
    SLOWER = "slower"
    INDISTINGUISHABLE = "indistinguishable"


def bootstrap_ratio_interval(
    baseline_ms: Sequence[float],
    candidate_ms: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of median(baseline) / median(candidate) under resampling.

    A fixed seed keeps the interval reproducible for the same samples.
    """
    rng = np.random.default_rng(seed)
    base = np.asarray(baseline_ms, dtype=np.float64)
    cand = np.asarray(candidate_ms, dtype=np.float64)
    base_medians = np.median(rng.choice(base, size=(resamples, base.size)), axis=1)
    cand_medians = np.median(rng.choice(cand, size=(resamples, cand.size)), axis=1)
    ratios = base_medians / cand_medians
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return float(low), float(high)


def compare_timings(name: str, baseline: TimingStats, candidate: TimingStats) -> SpeedComparison:
    low, high = bootstrap_ratio_interval(baseline.samples_ms, candidate.samples_ms)
    if low > 1.0 + MIN_EFFECT:
        verdict = Verdict.FASTER
    elif high < 1.0 - MIN_EFFECT:
        verdict = Verdict.SLOWER
    else:
        verdict = Verdict.INDISTINGUISHABLE
    return SpeedComparison(
        baseline=name,
        speedup=baseline.median_ms / candidate.median_ms,
        ci_low=low,
        ci_high=high,
        verdict=verdict.value,
    )
