"""Between rounds: whether a searching problem gets another round, and which problems get the free slots."""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

from ..search_tree import StopReason
from .expectation import cost_per_round_usd, expected_log_gain, gain_per_usd, worth_another_round
from .snapshot import ProblemRow, Spend
from .spec import CampaignSpec, Limits

logger = logging.getLogger(__name__)


class Step(NamedTuple):
    """A problem's next step: another round (`stop` None) worth `value`, or a stop for `stop`'s reason."""

    name: str
    position: int
    value: float
    stop: StopReason | None = None


def next_step(row: ProblemRow, position: int, spec: CampaignSpec, *, spent_out: str | None) -> Step:
    """For a problem with a run (a problem without one is worth an infinite first round)."""
    if row.devices and not any(device.active for device in row.devices):
        return Step(row.name, position, math.inf)  # stopped on its own, on its way to approval: let it get there
    if spent_out or _next_round_passes_share(row, spec.per_problem):
        return Step(row.name, position, 0.0, StopReason.CAMPAIGN_BUDGET)
    stopping = spec.stopping
    cost = cost_per_round_usd(gpu_seconds=row.gpu_s, llm_usd=row.llm_usd, rounds=row.rounds, stopping=stopping)
    value = gain_per_usd(expected_log_gain(row.progress(), stopping), cost)
    if not worth_another_round(value, rounds=row.rounds, stopping=stopping):
        logger.info("%s: expected %.3g log gain per dollar, below %.3g: stopping", row.name, value,
                    stopping.min_gain_per_usd)
        return Step(row.name, position, value, StopReason.LOW_EXPECTED_GAIN)
    return Step(row.name, position, value)


def _next_round_passes_share(row: ProblemRow, share: Limits) -> bool:
    """Whether the problem's GPU share is spent, or would be by a round as long as its mean round so far: a
    share is a limit, not a target, so a round expected to overrun it is not started."""
    mean_round_s = row.gpu_s / row.rounds if row.rounds else 0.0
    return Spend(gpu_s=row.gpu_s + mean_round_s).exceeds(Limits(gpu_hours=share.gpu_hours)) is not None


def take(steps: list[Step], free: int) -> list[Step]:
    """Stops first (they end in approval and free their slot soon), then the most valuable rounds, then the
    spec's order."""
    return sorted(steps, key=lambda step: (step.stop is None, -step.value, step.position))[:free]
