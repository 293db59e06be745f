"""Which nodes the next candidates build on: one policy per `Selection`, and the failures worth repairing.

Every policy picks among accepted nodes only; with none accepted yet it returns nothing, and the
caller decides between drafting again and repairing (`repair_candidates`). Ties go to the earlier
round, then to the smaller id, so a resumed search picks what the interrupted one would have.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from itertools import takewhile

from kevolve.graph.configuration import SearchSettings, Selection
from kevolve.graph.search_tree import DeviceSearch
from kevolve.tools.candidates import Operator, SearchNode

Policy = Callable[[list[SearchNode], DeviceSearch, SearchSettings, int, random.Random], list[SearchNode]]


def select_parents(
    search: DeviceSearch, settings: SearchSettings, *, count: int, rng: random.Random
) -> list[SearchNode]:
    """Up to `count` distinct accepted nodes to build on, the preferred first; [] before any is accepted.

    A node a person rejected is never a parent: what made it unacceptable would be inherited.
    """
    ranked = sorted(
        (node for node in search.nodes.values() if node.accepted and node.id not in search.rejected), key=_rank
    )
    if not ranked or count < 1:
        return []
    return _POLICIES[settings.selection](ranked, search, settings, count, rng)


def repair_candidates(search: DeviceSearch, max_repairs: int) -> list[SearchNode]:
    """The latest round's failed nodes whose lineage has used fewer than `max_repairs` repairs, newest first.

    A lineage is the chain of REPAIR nodes above a node up to the first node that is not a repair; the
    failed node itself counts when it is a repair. A candidate the reviewer refused has no outcome and
    is not repaired: its strategy is recorded as failed instead (`termination.failed_strategy`).
    """
    if not search.nodes:
        return []
    latest = max(node.round for node in search.nodes.values())
    failed = [
        node
        for node in search.nodes.values()
        if node.round == latest and node.outcome is not None and node.outcome.failed
    ]
    # Within a round, the order in which nodes joined the tree is the only notion of "newer".
    return [node for node in reversed(failed) if _repairs_used(search, node) < max_repairs]


def _greedy(
    ranked: list[SearchNode], search: DeviceSearch, settings: SearchSettings, count: int, rng: random.Random
) -> list[SearchNode]:
    # One parent, not `count` copies of it: every candidate of the round builds on the best.
    return ranked[:1]


def _beam(
    ranked: list[SearchNode], search: DeviceSearch, settings: SearchSettings, count: int, rng: random.Random
) -> list[SearchNode]:
    return ranked[: min(settings.beam_width, count)]


def _uct(
    ranked: list[SearchNode], search: DeviceSearch, settings: SearchSettings, count: int, rng: random.Random
) -> list[SearchNode]:
    """UCB1 over the tree of first parents; a node's value is its subtree's mean fitness over the best.

    A rejected node counts as fitness 0, so its ancestors do not keep the credit for it.
    """
    totals = dict.fromkeys(search.nodes, 0.0)
    visits = dict.fromkeys(search.nodes, 0)
    for node in search.nodes.values():
        for ancestor in _lineage(search, node):
            totals[ancestor.id] += 0.0 if node.id in search.rejected else node.fitness
            visits[ancestor.id] += 1
    # An accepted candidate can be slower than its baseline; only a zero best would leave nothing to scale by.
    scale = ranked[0].fitness if ranked[0].fitness > 0 else 1.0
    log_n = math.log(len(search.nodes))

    def score(node: SearchNode) -> float:
        value = totals[node.id] / visits[node.id] / scale
        return value + settings.uct_exploration * math.sqrt(log_n / visits[node.id])

    return sorted(ranked, key=lambda node: (-score(node), node.round, node.id))[:count]


def _evolutionary(
    ranked: list[SearchNode], search: DeviceSearch, settings: SearchSettings, count: int, rng: random.Random
) -> list[SearchNode]:
    """Tournaments of `tournament_size` accepted nodes; each winner leaves the pool, so none is picked twice."""
    # Sampled from a fixed order, so the same seed gives the same parents whatever order the tree was built in.
    pool = sorted(ranked, key=lambda node: (node.round, node.id))
    winners: list[SearchNode] = []
    while pool and len(winners) < count:
        contestants = rng.sample(pool, min(settings.tournament_size, len(pool)))
        winner = min(contestants, key=_rank)
        winners.append(winner)
        pool.remove(winner)
    return winners


_POLICIES: dict[Selection, Policy] = {
    Selection.GREEDY: _greedy,
    Selection.BEAM: _beam,
    Selection.UCT: _uct,
    Selection.EVOLUTIONARY: _evolutionary,
}


def _rank(node: SearchNode) -> tuple[float, int, str]:
    return -node.fitness, node.round, node.id


def _lineage(search: DeviceSearch, node: SearchNode) -> Iterator[SearchNode]:
    """The node, then its first parent, and so on up to a root (a node with no parent in the tree)."""
    seen: set[str] = set()
    current: SearchNode | None = node
    # Parent ids come from the planner's plan: a cycle among them must not hang the search.
    while current is not None and current.id not in seen:
        seen.add(current.id)
        yield current
        current = search.nodes.get(current.plan.parent_ids[0]) if current.plan.parent_ids else None


def _repairs_used(search: DeviceSearch, node: SearchNode) -> int:
    return sum(1 for _ in takewhile(lambda ancestor: ancestor.plan.operator is Operator.REPAIR, _lineage(search, node)))
