from agent_factories import GUIDANCE, KNOWLEDGE, accepted, diagnosis, failed, node, plan, task
from scripted_llm import ScriptedLLM

from kevolve.agents.planner import PlannerReply, PlanningRequest, plan_candidates
from kevolve.agents.strategies import catalogue, strategies_for
from kevolve.tools.candidates import Operator, Role
from kevolve.tools.llm.base import MalformedReply, TokenUsage

GELU_STRATEGIES = [s.name for s in strategies_for(task().reference_source)]


def request(nodes=(), parents=(), repairable=(), failed_strategies=(), count=1, problem="elementwise_gelu_tanh"):
    return PlanningRequest(
        task=task(problem), nodes=list(nodes), parents=list(parents), repairable=list(repairable),
        failed_strategies=list(failed_strategies), guidance=[GUIDANCE], knowledge=KNOWLEDGE, count=count,
    )


def offline(**kwargs):
    plans, usage = plan_candidates(request(**kwargs), None)
    assert usage == TokenUsage()
    return plans


def test_an_empty_tree_is_drafted():
    [draft] = offline()
    assert draft.operator is Operator.DRAFT and draft.parent_ids == []


def test_more_plans_than_a_draft_explore_distinct_strategies_from_the_reference():
    plans = offline(count=3)
    assert [p.operator for p in plans] == [Operator.DRAFT, Operator.EXPLORE, Operator.EXPLORE]
    assert [p.strategy for p in plans[1:]] == GELU_STRATEGIES[:2]
    assert all(p.parent_ids == [] for p in plans)


def test_a_repairable_node_is_repaired_with_its_error():
    broken = node("n1", outcome=failed("runtime_error", "IndexError: offsets out of range"))
    [repair] = offline(nodes=[broken], repairable=[broken])
    assert repair.operator is Operator.REPAIR and repair.parent_ids == ["n1"]
    assert "IndexError: offsets out of range" in repair.description


def test_two_accepted_parents_are_crossed_once():
    a, b = node("a", outcome=accepted(1.2)), node("b", outcome=accepted(1.4))
    [crossover] = offline(nodes=[a, b], parents=[a, b])
    assert crossover.operator is Operator.CROSSOVER and sorted(crossover.parent_ids) == ["a", "b"]
    child = node("c", made_by=plan(Operator.CROSSOVER, ("b", "a"), "some other wording"), round_number=2)
    [after] = offline(nodes=[a, b, child], parents=[a, b])
    assert after.operator is Operator.EXPLORE and after.parent_ids == ["b"]  # the fitter parent


def test_a_diagnosed_parent_is_improved_with_a_gain_from_its_headroom():
    parent = node("p", outcome=accepted(1.3, percent_of_light=40.0), diagnosed=diagnosis(guidance="fuse the passes"))
    [improve] = offline(nodes=[parent], parents=[parent])
    assert improve.operator is Operator.IMPROVE and improve.parent_ids == ["p"]
    assert "fuse the passes" in improve.description
    assert improve.expected_gain == 2.0  # 2.5x to the floor, capped
    near = node("p", outcome=accepted(1.3, percent_of_light=80.0), diagnosed=diagnosis())
    assert offline(nodes=[near], parents=[near])[0].expected_gain == 1.25


def test_an_undiagnosed_parent_explores_the_next_untried_strategy_that_has_not_failed():
    parent = node("p", outcome=accepted(), made_by=plan(Operator.EXPLORE, (), GELU_STRATEGIES[0]))
    [explore] = offline(nodes=[parent], parents=[parent], failed_strategies=[GELU_STRATEGIES[1].upper()])
    assert explore.operator is Operator.EXPLORE and explore.parent_ids == ["p"]
    assert explore.strategy == GELU_STRATEGIES[2]


def test_strategies_follow_the_operator_family():
    matmul = [s.name for s in strategies_for(task("matmul_tall_skinny").reference_source)]
    assert "tiled tensor-core matmul" in matmul and "tiled tensor-core matmul" not in GELU_STRATEGIES
    assert "blocked flash attention" not in GELU_STRATEGIES
    assert len(catalogue()) >= 10


def test_nothing_left_to_try_gives_no_plans():
    tried = [node(f"n{i}", outcome=failed(), made_by=plan(Operator.EXPLORE, (), name))
             for i, name in enumerate(GELU_STRATEGIES)]
    assert offline(nodes=tried) == []


def test_llm_plans_lose_unknown_parents_and_ungrounded_plans_are_replaced():
    a = node("a", outcome=accepted())
    reply = PlannerReply(plans=[
        plan(Operator.EXPLORE, ("a", "ghost"), "persistent kernel"),
        plan(Operator.IMPROVE, ("ghost",), "imaginary improvement"),
    ])
    llm = ScriptedLLM(Role.PLANNER, [reply])
    plans, usage = plan_candidates(request(nodes=[a], parents=[a], count=2), llm)
    assert usage.calls == 1
    assert plans[0].strategy == "persistent kernel" and plans[0].parent_ids == ["a"]
    assert plans[1].operator is Operator.EXPLORE and plans[1].strategy == GELU_STRATEGIES[0]  # offline's pick


def test_llm_plans_never_repeat_a_failed_strategy_and_respect_the_count():
    reply = PlannerReply(plans=[
        plan(Operator.DRAFT, (), "Vectorised Loads"),
        plan(Operator.DRAFT, (), "row per program"),
        plan(Operator.DRAFT, (), "one fused pass"),
    ])
    llm = ScriptedLLM(Role.PLANNER, [reply])
    plans, _ = plan_candidates(request(failed_strategies=["vectorised loads"], count=1), llm)
    assert [p.strategy for p in plans] == ["row per program"]


def test_the_planner_prompt_carries_knowledge_guidance_and_the_tree():
    broken = node("n1", outcome=failed("runtime_error", "IndexError: offsets out of range"))
    llm = ScriptedLLM(Role.PLANNER, [PlannerReply(plans=[])])
    plan_candidates(request(nodes=[broken], repairable=[broken], failed_strategies=["split-k"]), llm)
    prompt = llm.last_user_prompt()
    for expected in (KNOWLEDGE, GUIDANCE, "IndexError: offsets out of range", "split-k", "n1", "h100_sxm"):
        assert expected in prompt


def test_a_malformed_plan_reply_falls_back_to_the_offline_policy():
    plans, _ = plan_candidates(request(), ScriptedLLM(Role.PLANNER, [MalformedReply("not JSON")]))
    assert [p.operator for p in plans] == [Operator.DRAFT]
