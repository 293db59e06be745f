"""When a device's search stops: progress per round, the stopping rules, and the strategies that failed.

Pure functions of the search and the settings; the caller measures time, tokens and money.
"""

from __future__ import annotations

from kevolve.graph.configuration import SearchSettings
from kevolve.graph.search_tree import DeviceSearch, StopReason
from kevolve.tools.candidates import Operator, SearchNode, normalize_strategy


def record_round(search: DeviceSearch, settings: SearchSettings) -> DeviceSearch:
    """Close a round: append the best fitness to `best_history`, count it, and count it as a gain or not.

    A gain is a best fitness above `(1 + min_gain)` times the best at the last gain (0 before any
    node is accepted, so the first accepted candidate is a gain). Measuring from the last gain, not
    from the previous round, lets a run of small gains add up to progress instead of a plateau.
    """
    best = search.best.fitness if search.best is not None else 0.0
    # rounds_without_gain counts the rounds since the last gain (or since a person's rejection reset it),
    # so the best at that round is that many entries back.
    back = search.rounds_without_gain + 1
    at_last_gain = search.best_history[-back] if back <= len(search.best_history) else 0.0
    gained = best > at_last_gain * (1 + settings.min_gain)
    return search.model_copy(
        update={
            "best_history": [*search.best_history, best],
            "rounds": search.rounds + 1,
            "rounds_without_gain": 0 if gained else search.rounds_without_gain + 1,
        }
    )


def stop_reason(
    search: DeviceSearch, settings: SearchSettings, *, elapsed_s: float, tokens_used: int, cost_usd: float
) -> StopReason | None:
    """Why the device should stop now, or None to go on.

    Checked in this order, so the reason recorded is the most informative one that holds: a reason
    already recorded (a person's stop stays a person's stop); a target met, speedup then % of light
    (success says more than exhaustion); a plateau; then the budgets: rounds, wall time, tokens, money.
    A budget or target of None never stops the search; rounds a rejection granted extend `max_rounds`.
    """
    if search.stop is not None:
        return search.stop
    targets, budget = settings.targets, settings.budget
    max_rounds = None if budget.max_rounds is None else budget.max_rounds + search.extra_rounds
    outcome = search.best.outcome if search.best is not None else None
    checks = [
        # The outcome's fitness, not the node's: a node without a measured time ranks as 1.0, not as a speedup.
        (StopReason.TARGET_SPEEDUP, _reached(outcome.fitness if outcome else None, targets.speedup)),
        (StopReason.TARGET_LIGHT, _reached(outcome.percent_of_light if outcome else None, targets.percent_of_light)),
        (StopReason.PLATEAU, search.rounds_without_gain >= settings.patience),
        (StopReason.MAX_ROUNDS, _reached(search.rounds, max_rounds)),
        (StopReason.WALL_TIME, _reached(elapsed_s, budget.wall_seconds)),
        (StopReason.TOKENS, _reached(tokens_used, budget.max_tokens)),
        (StopReason.MONEY, _reached(cost_usd, budget.max_cost_usd)),
    ]
    return next((reason for reason, holds in checks if holds), None)


def failed_strategy(node: SearchNode, *, parent: SearchNode | None = None, min_gain: float = 0.0) -> bool:
    """Whether the node's strategy should not be tried again on this device.

    A repair never is: it retries its parent's strategy. Any other node is when the reviewer refused
    it or the harness failed it, or, given the `parent` it built on, when it was accepted with a
    measured fitness no more than `(1 + min_gain)` times the parent's. Without a measured fitness
    (a CPU run) a gain cannot be judged, so an accepted node never counts as failed.
    """
    if node.plan.operator is Operator.REPAIR:
        return False
    if node.review is not None and not node.review.approved:
        return True
    if node.outcome is None:
        return False
    if node.outcome.failed:
        return True
    if parent is None or not node.accepted or node.outcome.fitness is None:
        return False
    return node.outcome.fitness <= parent.fitness * (1 + min_gain)


def record_failed_strategies(search: DeviceSearch, settings: SearchSettings) -> DeviceSearch:
    """Add the strategies of the latest round's failed nodes, normalized and without duplicates.

    A node built on several parents (crossover) must beat the fittest of them.
    """
    if not search.nodes:
        return search
    latest = max(node.round for node in search.nodes.values())
    strategies = list(search.failed_strategies)
    for node in search.nodes.values():
        if node.round != latest:
            continue
        parents = [search.nodes[pid] for pid in node.plan.parent_ids if pid in search.nodes]
        parent = max(parents, key=lambda candidate: candidate.fitness, default=None)
        strategy = normalize_strategy(node.plan.strategy)
        if strategy and strategy not in strategies and failed_strategy(node, parent=parent, min_gain=settings.min_gain):
            strategies.append(strategy)
    return search.model_copy(update={"failed_strategies": strategies})


def _reached(value: float | None, limit: float | None) -> bool:
    return value is not None and limit is not None and value >= limit
