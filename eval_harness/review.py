"""Results too good to be true: held for a person's review, with no fitness until cleared.

A candidate faster than the speed-of-light floor has broken physics or the harness; one more than
10x faster than the best baseline on an operator a library already implements is far more often a
harness hole than a discovery. Either way a person looks before the search rewards it.
"""

from __future__ import annotations

from .results import ProblemSanity, SpeedComparison, SpeedOfLight, TimingStats

MAX_PLAUSIBLE_SPEEDUP = 10.0
# Measured time may sit a little under a datasheet floor through clock boost and rounding.
_FLOOR_SLACK = 0.95


def review_reasons(
    timing: TimingStats | None,
    comparisons: list[SpeedComparison],
    sol: SpeedOfLight | None,
    sanity: ProblemSanity | None,
) -> list[str]:
    reasons = []
    if sanity is not None:
        reasons += [f"degenerate problem: {reason}" for reason in sanity.degenerate_reasons]
    if comparisons:
        best = min(comparisons, key=lambda c: c.speedup)
        if best.speedup > MAX_PLAUSIBLE_SPEEDUP:
            reasons.append(
                f"{best.speedup:.1f}x faster than the best baseline ({best.baseline}), "
                f"over the plausible {MAX_PLAUSIBLE_SPEEDUP:g}x"
            )
    floor_ms = sol.floor_ms if sol is not None else None
    if timing is not None and floor_ms is not None and timing.median_ms < _FLOOR_SLACK * floor_ms:
        reasons.append(
            f"median {timing.median_ms:.4g} ms is below the speed-of-light floor {floor_ms:.4g} ms "
            f"({sol.bound}-bound)"
        )
    return reasons
