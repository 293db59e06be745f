"""Progress per round, the stopping rules and their order, and the failed strategies a search remembers."""

import pytest
from test_selection import BROKEN, node, ok, tree

from kevolve.graph.configuration import Budget, SearchSettings, Targets
from kevolve.graph.search_tree import DeviceSearch, StopReason
from kevolve.graph.termination import (
    failed_strategy,
    normalize_strategy,
    record_failed_strategies,
    record_round,
    stop_reason,
)
from kevolve.tools.candidates import Operator, ReviewVerdict

UNBOUNDED = SearchSettings(budget=Budget(max_rounds=None))
SPENT_NOTHING = {"elapsed_s": 0.0, "tokens_used": 0, "cost_usd": 0.0}


def rounds_of(
    fitnesses: list[float | None], settings: SearchSettings, *, percent_of_light: float | None = None
) -> DeviceSearch:
    """A search after one round per fitness, each round adding one accepted node (None: unmeasured)."""
    search = tree()
    for round_, fitness in enumerate(fitnesses):
        added = node(f"n{round_}", round_, ok(fitness, percent_of_light=percent_of_light))
        search = record_round(search.model_copy(update={"nodes": {**search.nodes, added.id: added}}), settings)
    return search


def test_the_first_accepted_candidate_is_a_gain_and_a_round_without_one_is_not():
    empty_round = record_round(tree(node("a", 0, BROKEN)), UNBOUNDED)
    assert (empty_round.best_history, empty_round.rounds, empty_round.rounds_without_gain) == ([0.0], 1, 1)
    first = record_round(empty_round.model_copy(update={"nodes": {"b": node("b", 1, ok(0.7))}}), UNBOUNDED)
    assert (first.best_history, first.rounds, first.rounds_without_gain) == ([0.0, 0.7], 2, 0)


def test_a_gain_below_min_gain_is_not_progress():
    settings = SearchSettings(min_gain=0.02)
    assert rounds_of([1.0, 1.01], settings).rounds_without_gain == 1
    assert rounds_of([1.0, 1.02], settings).rounds_without_gain == 1  # exactly min_gain is not above it
    assert rounds_of([1.0, 1.03], settings).rounds_without_gain == 0


def test_small_gains_add_up_to_progress_from_the_last_gain():
    search = rounds_of([1.0, 1.015, 1.025], SearchSettings(min_gain=0.02))
    assert search.best_history == [1.0, 1.015, 1.025]
    assert search.rounds_without_gain == 0


@pytest.mark.parametrize("patience", [1, 3])
def test_plateau_after_exactly_patience_rounds_without_gain(patience):
    settings = SearchSettings(patience=patience, budget=Budget(max_rounds=None))
    fitnesses = [2.0]
    for _ in range(patience):
        assert stop_reason(rounds_of(fitnesses, settings), settings, **SPENT_NOTHING) is None
        fitnesses.append(2.01)
    assert rounds_of(fitnesses, settings).rounds_without_gain == patience
    assert stop_reason(rounds_of(fitnesses, settings), settings, **SPENT_NOTHING) is StopReason.PLATEAU


def test_on_a_cpu_unmeasured_candidates_rank_as_one_and_plateau_without_meeting_a_speedup_target():
    settings = SearchSettings(patience=2, targets=Targets(speedup=0.5), budget=Budget(max_rounds=None))
    assert rounds_of([None], settings).best_history == [1.0]
    assert stop_reason(rounds_of([None], settings), settings, **SPENT_NOTHING) is None
    assert stop_reason(rounds_of([None, None], settings), settings, **SPENT_NOTHING) is None
    assert stop_reason(rounds_of([None, None, None], settings), settings, **SPENT_NOTHING) is StopReason.PLATEAU


def test_a_target_speedup_is_met_at_or_above_it():
    settings = SearchSettings(targets=Targets(speedup=2.0))
    assert stop_reason(tree(node("a", 0, ok(1.99))), settings, **SPENT_NOTHING) is None
    assert stop_reason(tree(node("a", 0, ok(2.0))), settings, **SPENT_NOTHING) is StopReason.TARGET_SPEEDUP


def test_a_target_percent_of_light_is_read_from_the_best_candidate():
    settings = SearchSettings(targets=Targets(percent_of_light=75))
    slower_but_closer = node("b", 0, ok(1.2, percent_of_light=90))
    best = node("a", 0, ok(1.5, percent_of_light=70))
    assert stop_reason(tree(best, slower_but_closer), settings, **SPENT_NOTHING) is None
    met = tree(node("a", 0, ok(1.5, percent_of_light=75)))
    assert stop_reason(met, settings, **SPENT_NOTHING) is StopReason.TARGET_LIGHT


@pytest.mark.parametrize(
    ("budget", "spent", "reason"),
    [
        (Budget(max_rounds=None, wall_seconds=60), {"elapsed_s": 60.0}, StopReason.WALL_TIME),
        (Budget(max_rounds=None, max_tokens=1000), {"tokens_used": 1000}, StopReason.TOKENS),
        (Budget(max_rounds=None, max_cost_usd=2.5), {"cost_usd": 2.5}, StopReason.MONEY),
    ],
)
def test_each_spending_budget_stops_once_spent(budget, spent, reason):
    settings = SearchSettings(budget=budget)
    just_under = {key: value - 0.5 for key, value in spent.items()}
    assert stop_reason(tree(), settings, **{**SPENT_NOTHING, **just_under}) is None
    assert stop_reason(tree(), settings, **{**SPENT_NOTHING, **spent}) is reason


def test_max_rounds_stops_once_that_many_rounds_are_recorded():
    settings = SearchSettings(patience=10, budget=Budget(max_rounds=3))
    assert stop_reason(rounds_of([1.0, 1.5], settings), settings, **SPENT_NOTHING) is None
    assert stop_reason(rounds_of([1.0, 1.5, 2.0], settings), settings, **SPENT_NOTHING) is StopReason.MAX_ROUNDS


def test_rounds_granted_by_a_rejection_extend_max_rounds():
    settings = SearchSettings(patience=10, budget=Budget(max_rounds=3))
    search = rounds_of([1.0, 1.5, 2.0], settings).model_copy(update={"extra_rounds": 2})
    assert stop_reason(search, settings, **SPENT_NOTHING) is None
    assert stop_reason(search.model_copy(update={"rounds": 5}), settings, **SPENT_NOTHING) is StopReason.MAX_ROUNDS


def test_after_a_rejection_a_gain_is_measured_from_the_best_before_it():
    settings = SearchSettings(min_gain=0.02, budget=Budget(max_rounds=None))
    search = rounds_of([1.0, 2.0], settings).model_copy(update={"rejected": ["n1"], "rounds_without_gain": 0})
    slower = record_round(search, settings)
    assert (slower.best_history[-1], slower.rounds_without_gain) == (1.0, 1)
    faster = node("n2", 2, ok(2.1))
    beyond = record_round(slower.model_copy(update={"nodes": {**slower.nodes, "n2": faster}}), settings)
    assert beyond.rounds_without_gain == 0


def test_budgets_of_none_never_stop():
    settings = SearchSettings(patience=100, budget=Budget(max_rounds=None))
    search = rounds_of([float(i) for i in range(1, 50)], settings)
    assert stop_reason(search, settings, elapsed_s=1e9, tokens_used=10**12, cost_usd=1e9) is None


ORDER = [
    StopReason.TARGET_SPEEDUP,
    StopReason.TARGET_LIGHT,
    StopReason.PLATEAU,
    StopReason.MAX_ROUNDS,
    StopReason.WALL_TIME,
    StopReason.TOKENS,
    StopReason.MONEY,
]


def _stop_with_all_but(off: set[StopReason]) -> StopReason | None:
    """stop_reason where every rule not in `off` holds and every rule in it does not."""
    settings = SearchSettings(
        patience=1,
        targets=Targets(
            speedup=None if StopReason.TARGET_SPEEDUP in off else 1.0,
            percent_of_light=None if StopReason.TARGET_LIGHT in off else 50,
        ),
        budget=Budget(
            max_rounds=None if StopReason.MAX_ROUNDS in off else 1, wall_seconds=10, max_tokens=10, max_cost_usd=1.0
        ),
    )
    fitnesses = [1.5] if StopReason.PLATEAU in off else [1.5, 1.5]
    return stop_reason(
        rounds_of(fitnesses, settings, percent_of_light=60),
        settings,
        elapsed_s=0.0 if StopReason.WALL_TIME in off else 10.0,
        tokens_used=0 if StopReason.TOKENS in off else 10,
        cost_usd=0.0 if StopReason.MONEY in off else 1.0,
    )


def test_stop_reasons_are_checked_in_the_documented_priority_order():
    for i, reason in enumerate(ORDER):
        assert _stop_with_all_but(set(ORDER[:i])) is reason
    assert _stop_with_all_but(set(ORDER)) is None


def test_a_recorded_stop_is_kept():
    search = tree(node("a", 0, ok(3.0))).model_copy(update={"stop": StopReason.STOPPED_BY_USER})
    settings = SearchSettings(targets=Targets(speedup=2.0))
    assert stop_reason(search, settings, **SPENT_NOTHING) is StopReason.STOPPED_BY_USER


REFUSED = ReviewVerdict(approved=False, reasons=["falls back to torch"])


def test_which_nodes_count_as_a_failed_strategy():
    parent = node("p", 0, ok(2.0), operator=Operator.DRAFT)
    assert failed_strategy(node("d", 0, BROKEN, operator=Operator.DRAFT))
    assert failed_strategy(node("r", 0, None, review=REFUSED))
    assert not failed_strategy(node("fix", 1, BROKEN, parents=("p",), operator=Operator.REPAIR))
    assert not failed_strategy(node("pending", 1, None, parents=("p",)))
    assert not failed_strategy(parent)
    assert failed_strategy(node("i", 1, ok(2.02), parents=("p",)), parent=parent, min_gain=0.02)
    assert failed_strategy(node("i", 1, ok(1.5), parents=("p",)), parent=parent)
    assert not failed_strategy(node("i", 1, ok(2.1), parents=("p",)), parent=parent, min_gain=0.02)
    # Without a measured fitness a gain cannot be judged.
    assert not failed_strategy(node("i", 1, ok(None), parents=("p",)), parent=parent, min_gain=0.02)


def test_record_failed_strategies_adds_the_latest_rounds_normalized_and_once():
    search = tree(
        node("old", 0, BROKEN, operator=Operator.DRAFT, strategy="tensor cores"),
        node("a", 0, ok(2.0), operator=Operator.DRAFT),
        node("b", 0, ok(1.0), operator=Operator.DRAFT),
        node("x", 1, BROKEN, strategy="  One  Fused\tKernel "),
        node("y", 1, None, strategy="Split-K", review=REFUSED),
        node("z", 1, BROKEN, strategy="split-k"),
        node("fix", 1, BROKEN, strategy="vectorized loads", parents=("old",), operator=Operator.REPAIR),
        node("mix", 1, ok(1.9), strategy="Crossover of A and B", parents=("b", "a"), operator=Operator.CROSSOVER),
        node("up", 1, ok(1.5), strategy="wider blocks", parents=("b",)),
    ).model_copy(update={"failed_strategies": ["one fused kernel"]})
    recorded = record_failed_strategies(search, SearchSettings(min_gain=0.02))
    assert recorded.failed_strategies == ["one fused kernel", "split-k", "crossover of a and b"]
    assert record_failed_strategies(recorded, SearchSettings()).failed_strategies == recorded.failed_strategies
    assert record_failed_strategies(tree(), SearchSettings()).failed_strategies == []


def test_normalize_strategy_lowercases_and_collapses_whitespace():
    assert normalize_strategy("  Persistent\n  Kernel,  TMA loads ") == "persistent kernel, tma loads"
