"""A weak model's debris (`");` for a bottleneck) is not taken as an answer: it never becomes a plan's
strategy ("address );") or the summary's text; the roles' offline readings stand in, and the call is paid."""

import pytest
from agent_factories import accepted, node, plan, task
from scripted_llm import CALL_USAGE, ScriptedLLM

from kevolve.agents.analyst import AnalysisRequest, ProfileFacts, analyze_candidate
from kevolve.agents.planner import PlannerReply, PlanningRequest, plan_candidates
from kevolve.agents.prose import is_prose
from kevolve.tools.candidates import Diagnosis, Operator, Role


@pytest.mark.parametrize(("text", "prose"), [
    ('");', False), ("", False), ("}}]", False), ("x = 1;", False), ("GPU", True),
    ("memory bandwidth", True), ("launch overhead: 6 launches per call", True), ("(x + 1) * 2;", False),
])
def test_prose_is_mostly_letters(text, prose):
    assert is_prose(text) is prose


def test_a_diagnosis_of_debris_is_replaced_by_the_offline_reading():
    debris = Diagnosis(bottleneck='");', headroom="?", guidance="}", knowledge_query="")
    request = AnalysisRequest(task=task(), node=node("n", outcome=accepted(1.5, 40.0)), parent=None,
                              profile_summary="", facts=ProfileFacts())
    diagnosis, usage = analyze_candidate(request, ScriptedLLM(Role.ANALYST, [debris]))
    assert is_prose(diagnosis.bottleneck) and is_prose(diagnosis.guidance) and usage == CALL_USAGE


def test_a_plan_whose_strategy_is_debris_is_dropped_for_the_offline_plan():
    parent = node("a", outcome=accepted())
    reply = PlannerReply(plans=[plan(Operator.IMPROVE, ("a",), '");')])
    request = PlanningRequest(task=task(), nodes=[parent], parents=[parent], repairable=[], failed_strategies=[],
                              guidance=[], knowledge="", count=1)
    [chosen], usage = plan_candidates(request, ScriptedLLM(Role.PLANNER, [reply]))
    assert is_prose(chosen.strategy) and usage.calls == 1
