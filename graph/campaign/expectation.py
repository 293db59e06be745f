"""What another round of a problem is expected to gain, per dollar: the quantity that allocates a campaign's
budget and stops a problem.

For one device's search, with `f_i` its best fitness after round i (the faster baseline's time over the
best kernel's; a value below 1 counts as 1, because the faster baseline is what a user has already):

    g_i = ln(max(f_i, 1) / max(f_{i-1}, 1))                 log-fitness gain of round i (f_0 = 1)
    m_n = a * g_n + (1 - a) * m_{n-1},  m_0 = prior          exponentially weighted mean gain per round
    h   = 1 - p / 100                                       headroom left to the speed-of-light floor
                                                            (p: the best kernel's % of light; h = 1 unknown)
    E   = m_n * h                                           expected log gain of the next round

`a` is `stopping.smoothing` and `prior` is `stopping.prior_log_gain`. A problem's expected gain is the
largest E among its devices still searching, and its cost per round is its own mean so far:

    c = (GPU-seconds * gpu_usd_per_hour / 3600 + LLM dollars) / rounds

The value of a round is V = E / c (log gain per dollar; infinite before the first round, whose cost is
unknown, and when the round costs nothing but is expected to gain). The campaign hands its free slots
to the problems of highest V, so one with headroom and recent gains runs before one whose last rounds
gained nothing or that sits near its floor; and it stops a problem, after `min_rounds` rounds, once
V < `stopping.min_gain_per_usd`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from .spec import Stopping


class DeviceProgress(BaseModel):
    """One device's search as the expectation reads it."""

    model_config = ConfigDict(frozen=True)

    best_history: list[float]
    percent_of_light: float | None = None
    active: bool = True


def log_gains(best_history: Sequence[float]) -> list[float]:
    """g_i for each round; fitness below the baseline (1.0) is floored there."""
    floored = [max(value, 1.0) for value in best_history]
    return [math.log(now / before) for before, now in zip([1.0, *floored], floored, strict=False)]


def mean_log_gain(best_history: Sequence[float], stopping: Stopping) -> float:
    """m_n: the exponentially weighted mean of the gains, starting from the prior."""
    mean = stopping.prior_log_gain
    for gain in log_gains(best_history):
        mean = stopping.smoothing * gain + (1 - stopping.smoothing) * mean
    return mean


def headroom(percent_of_light: float | None) -> float:
    """h: the fraction of the way to the floor still open; 1 where the floor is unknown."""
    if percent_of_light is None:
        return 1.0
    return min(max(1.0 - percent_of_light / 100.0, 0.0), 1.0)


def expected_log_gain(devices: Sequence[DeviceProgress], stopping: Stopping) -> float:
    """E for the problem: the best expectation among its devices still searching (0 when none is)."""
    return max(
        (mean_log_gain(d.best_history, stopping) * headroom(d.percent_of_light) for d in devices if d.active),
        default=0.0,
    )


def cost_per_round_usd(*, gpu_seconds: float, llm_usd: float, rounds: int, stopping: Stopping) -> float | None:
    """c, or None before the first round."""
    if rounds <= 0:
        return None
    return (gpu_seconds * stopping.gpu_usd_per_hour / 3600.0 + llm_usd) / rounds


def gain_per_usd(expected: float, cost_per_round: float | None) -> float:
    """V = E / c."""
    if cost_per_round is None:
        return math.inf
    if cost_per_round <= 0:
        return math.inf if expected > 0 else 0.0
    return expected / cost_per_round


def worth_another_round(value: float, *, rounds: int, stopping: Stopping) -> bool:
    return rounds < stopping.min_rounds or value >= stopping.min_gain_per_usd
