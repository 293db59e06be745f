"""Parent selection policies and repair candidates, on small hand-made trees."""

import random

import pytest

from kevolve.eval_harness.results import EvalStatus
from kevolve.graph.configuration import SearchSettings, Selection
from kevolve.graph.search_tree import DeviceSearch
from kevolve.graph.selection import repair_candidates, select_parents
from kevolve.tools.candidates import Operator, Outcome, Plan, ReviewVerdict, SearchNode

BROKEN = Outcome(status=EvalStatus.ERROR, accepted=False, fitness=0.0, error_kind="compile", error_message="boom")


def ok(fitness: float | None, *, percent_of_light: float | None = None) -> Outcome:
    return Outcome(status=EvalStatus.CORRECT, accepted=True, fitness=fitness, percent_of_light=percent_of_light)


def node(
    node_id: str,
    round_: int,
    outcome: Outcome | None = None,
    *,
    parents: tuple[str, ...] = (),
    operator: Operator = Operator.IMPROVE,
    strategy: str = "one fused kernel",
    review: ReviewVerdict | None = None,
) -> SearchNode:
    plan = Plan(operator=operator, parent_ids=list(parents), strategy=strategy, description="as the strategy says")
    return SearchNode(id=node_id, device="cuda:0", round=round_, plan=plan, outcome=outcome, review=review)


def tree(*nodes: SearchNode) -> DeviceSearch:
    return DeviceSearch(device="cuda:0", nodes={n.id: n for n in nodes})


def pick(search: DeviceSearch, selection: Selection, count: int = 1, seed: int = 0, **settings) -> list[str]:
    chosen = select_parents(
        search, SearchSettings(selection=selection, **settings), count=count, rng=random.Random(seed)
    )
    return [n.id for n in chosen]


@pytest.mark.parametrize("selection", list(Selection))
def test_every_policy_returns_nothing_for_an_empty_tree_or_one_without_an_accepted_node(selection):
    assert pick(tree(), selection, count=3) == []
    failures = tree(node("a", 0, BROKEN, operator=Operator.DRAFT), node("b", 0, None))
    assert pick(failures, selection, count=3) == []


@pytest.mark.parametrize("selection", list(Selection))
def test_every_policy_returns_distinct_accepted_nodes_only(selection):
    search = tree(
        node("a", 0, ok(1.2)),
        node("b", 0, BROKEN),
        node("c", 1, ok(1.5), parents=("a",)),
        node("d", 1, BROKEN, parents=("a",)),
        node("e", 2, ok(0.8), parents=("c",)),
    )
    chosen = pick(search, selection, count=10, beam_width=10, tournament_size=2)
    assert set(chosen) <= {"a", "c", "e"}
    assert len(chosen) == len(set(chosen)) >= 1


@pytest.mark.parametrize("selection", list(Selection))
def test_a_node_a_person_rejected_is_never_a_parent(selection):
    search = tree(node("a", 0, ok(3.0)), node("b", 1, ok(1.5), parents=("a",)), node("c", 1, ok(1.2), parents=("a",)))
    chosen = pick(search.model_copy(update={"rejected": ["a"]}), selection, count=3, beam_width=3, tournament_size=2)
    assert sorted(chosen) == (["b"] if selection is Selection.GREEDY else ["b", "c"])


def test_uct_gives_no_credit_for_a_rejected_descendant():
    search = tree(node("a", 0, ok(1.0)), node("a1", 1, ok(3.0), parents=("a",)), node("b", 0, ok(1.2)))
    assert pick(search, Selection.UCT, count=3, uct_exploration=0.0) == ["a1", "a", "b"]
    # Without a1's 3.0 the subtree of a averages 0.5, below b's 1.2.
    assert pick(search.model_copy(update={"rejected": ["a1"]}), Selection.UCT, count=2, uct_exploration=0.0) == [
        "b",
        "a",
    ]


def test_greedy_picks_the_best_once_however_many_are_asked_for():
    search = tree(node("a", 0, ok(1.2)), node("b", 1, ok(1.8)), node("c", 1, BROKEN), node("d", 2, ok(1.5)))
    assert pick(search, Selection.GREEDY, count=3) == ["b"]


def test_ties_go_to_the_earlier_round_then_the_smaller_id():
    search = tree(node("z", 1, ok(1.5)), node("y", 2, ok(1.5)), node("x", 2, ok(1.5)))
    assert pick(search, Selection.GREEDY) == ["z"]
    assert pick(search, Selection.BEAM, count=3) == ["z", "x", "y"]


def test_beam_returns_the_top_beam_width_by_fitness_capped_by_count():
    search = tree(
        node("a", 0, ok(1.1)), node("b", 0, ok(1.9)), node("c", 1, ok(1.5)), node("d", 1, ok(1.7)), node("e", 1, BROKEN)
    )
    assert pick(search, Selection.BEAM, count=5, beam_width=3) == ["b", "d", "c"]
    assert pick(search, Selection.BEAM, count=2, beam_width=3) == ["b", "d"]


def test_uct_prefers_an_unvisited_good_node_over_a_heavily_visited_one_of_the_same_value():
    # Every node has fitness 2.0, so every value is 1.0; only the visits differ.
    search = tree(
        node("heavy", 0, ok(2.0)),
        node("fresh", 0, ok(2.0)),
        *(node(f"child{i}", 1, ok(2.0), parents=("heavy",)) for i in range(3)),
    )
    assert pick(search, Selection.UCT, count=5, uct_exploration=1.4) == ["fresh", "child0", "child1", "child2", "heavy"]


def test_uct_without_exploration_exploits_the_best_subtree_however_visited():
    search = tree(
        node("a", 0, ok(2.0)),
        node("a1", 1, ok(2.0), parents=("a",)),
        node("a2", 1, ok(2.0), parents=("a",)),
        node("b", 0, ok(1.0)),
    )
    assert pick(search, Selection.UCT, count=4, uct_exploration=0.0) == ["a", "a1", "a2", "b"]
    # Exploration lifts the rarely visited weaker leaf above the well-explored root.
    assert pick(search, Selection.UCT, count=4, uct_exploration=2.0) == ["a1", "a2", "b", "a"]


def test_uct_counts_failed_descendants_against_their_ancestor():
    search = tree(
        node("a", 0, ok(2.0)), *(node(f"f{i}", 1, BROKEN, parents=("a",)) for i in range(3)), node("b", 0, ok(1.5))
    )
    # a's subtree averages (2 + 0 + 0 + 0) / 4 = 0.5 = 0.25 of the best; b alone is 0.75 of it.
    assert pick(search, Selection.UCT, count=2, uct_exploration=0.0) == ["b", "a"]


def _population() -> list[SearchNode]:
    accepted = [node(f"n{i}", i % 3, ok(1.0 + i / 10)) for i in range(8)]
    return accepted + [node(f"bad{i}", i % 3, BROKEN) for i in range(8)]


def test_evolutionary_is_reproducible_with_a_seed_whatever_the_order_the_tree_was_built_in():
    population = _population()
    forward, backward = tree(*population), tree(*reversed(population))
    first = pick(forward, Selection.EVOLUTIONARY, count=4, seed=7)
    assert pick(backward, Selection.EVOLUTIONARY, count=4, seed=7) == first
    assert len({tuple(pick(forward, Selection.EVOLUTIONARY, count=4, seed=s)) for s in range(20)}) > 1


def test_evolutionary_draws_without_replacement_and_never_a_failed_node():
    search = tree(*_population())
    for seed in range(50):
        chosen = pick(search, Selection.EVOLUTIONARY, count=20, seed=seed)
        assert sorted(chosen) == [f"n{i}" for i in range(8)]


def test_evolutionary_tournament_as_large_as_the_population_picks_in_fitness_order():
    search = tree(node("a", 0, ok(1.2)), node("b", 0, ok(1.8)), node("c", 0, ok(1.5)), node("d", 0, BROKEN))
    assert pick(search, Selection.EVOLUTIONARY, count=3, tournament_size=3, seed=3) == ["b", "c", "a"]


def test_repair_candidates_follow_a_lineage_until_max_repairs_are_used():
    draft = node("d", 0, BROKEN, operator=Operator.DRAFT)
    first = node("r1", 1, BROKEN, parents=("d",), operator=Operator.REPAIR)
    second = node("r2", 2, BROKEN, parents=("r1",), operator=Operator.REPAIR)
    assert [n.id for n in repair_candidates(tree(draft), max_repairs=2)] == ["d"]
    assert [n.id for n in repair_candidates(tree(draft, first), max_repairs=2)] == ["r1"]
    assert repair_candidates(tree(draft, first, second), max_repairs=2) == []
    assert [n.id for n in repair_candidates(tree(draft, first, second), max_repairs=3)] == ["r2"]
    assert repair_candidates(tree(draft), max_repairs=0) == []


def test_a_lineage_starts_again_below_a_node_that_is_not_a_repair():
    search = tree(
        node("d", 0, BROKEN, operator=Operator.DRAFT),
        node("r1", 1, ok(1.3), parents=("d",), operator=Operator.REPAIR),
        node("i", 2, BROKEN, parents=("r1",)),
        node("r2", 3, BROKEN, parents=("i",), operator=Operator.REPAIR),
    )
    assert [n.id for n in repair_candidates(search, max_repairs=2)] == ["r2"]


def test_repair_candidates_are_the_latest_rounds_failures_newest_first():
    refused = ReviewVerdict(approved=False, reasons=["calls the reference"])
    search = tree(
        node("old", 0, BROKEN, operator=Operator.DRAFT),
        node("x", 1, BROKEN, operator=Operator.DRAFT),
        node("good", 1, ok(1.1), operator=Operator.DRAFT),
        node("refused", 1, None, operator=Operator.DRAFT, review=refused),
        node("y", 1, Outcome(status=EvalStatus.INCORRECT, accepted=False, fitness=0.0), operator=Operator.DRAFT),
    )
    assert [n.id for n in repair_candidates(search, max_repairs=1)] == ["y", "x"]
    assert repair_candidates(tree(), max_repairs=1) == []


def test_a_cycle_of_parent_ids_ends_the_lineage_instead_of_hanging():
    search = tree(
        node("p", 0, BROKEN, parents=("q",), operator=Operator.REPAIR),
        node("q", 0, BROKEN, parents=("p",), operator=Operator.REPAIR),
    )
    assert [n.id for n in repair_candidates(search, max_repairs=3)] == ["q", "p"]
    assert repair_candidates(search, max_repairs=2) == []
