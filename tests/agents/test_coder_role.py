import pytest
from agent_factories import CANDIDATES, GUIDANCE, KNOWLEDGE, diagnosis, plan, task
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import ValidationError
from scripted_llm import ScriptedLLM

from kevolve.agents.coder import CoderResult, CodingRequest, ReplyDefect, SeedCandidates, write_candidate
from kevolve.eval_harness.problem import sha256_text
from kevolve.tools.candidates import Operator, Role
from kevolve.tools.llm.base import TokenUsage

TRITON = (CANDIDATES / "correct_triton.py").read_text()
ANSWER = f"One program per 1024 elements.\n\n```python\n{TRITON}```\n"


def request(**overrides):
    fields = dict(task=task(), plan=plan(), knowledge=KNOWLEDGE, guidance=[GUIDANCE])
    return CodingRequest(**(fields | overrides))


def test_the_module_is_taken_from_the_reply_with_its_notes():
    llm = ScriptedLLM(Role.CODER, [ANSWER])
    result, usage = write_candidate(request(), llm)
    assert result.draft.source == TRITON and result.draft.notes == "One program per 1024 elements."
    assert result.defects == [] and usage.calls == 1


def test_a_reply_without_code_is_asked_again_once():
    llm = ScriptedLLM(Role.CODER, ["I would write a fused kernel.", ANSWER])
    result, usage = write_candidate(request(), llm)
    assert result.draft.source == TRITON and usage.calls == 2
    assert result.defects == [ReplyDefect.NO_CODE]
    first_reply, reask = llm.received[1][-2:]
    assert isinstance(first_reply, AIMessage) and first_reply.content == "I would write a fused kernel."
    assert isinstance(reask, HumanMessage) and "```python" in reask.content


def test_no_code_twice_gives_no_candidate():
    llm = ScriptedLLM(Role.CODER, ["no idea", "still no idea"])
    result, usage = write_candidate(request(), llm)
    assert result.draft is None and usage.calls == 2
    assert result.defects == [ReplyDefect.NO_CODE, ReplyDefect.NO_CODE]


def test_the_coder_prompt_carries_the_plan_parents_error_diagnosis_knowledge_and_guidance():
    repair = plan(Operator.REPAIR, ("n1",), "repair runtime_error")
    llm = ScriptedLLM(Role.CODER, [ANSWER])
    write_candidate(request(plan=repair, parent_sources=["# the parent's source\n"], error="IndexError: out of range",
                            diagnosis=diagnosis(guidance="mask the tail")), llm)
    prompt = llm.last_user_prompt()
    for expected in (KNOWLEDGE, GUIDANCE, "# the parent's source", "IndexError: out of range", "mask the tail",
                     "repair runtime_error", "class Model(nn.Module)"):
        assert expected in prompt
    system = llm.received[0][0].content
    assert "ModelNew" in system and "strict" in system and "load_inline" in system


def test_the_system_prompt_states_the_task_policy():
    llm = ScriptedLLM(Role.CODER, [ANSWER])
    write_candidate(request(task=task(policy="hybrid")), llm)
    assert "Policy `hybrid`" in llm.received[0][0].content


def test_parent_sources_must_match_the_plan_parents():
    with pytest.raises(ValidationError, match="parent sources"):
        request(plan=plan(Operator.IMPROVE, ("a",), "x"), parent_sources=[])


@pytest.fixture
def seeds(tmp_path):
    (tmp_path / "elementwise_gelu_tanh.py").write_text("# seed zero\n")
    several = tmp_path / "elementwise_gelu_tanh"
    several.mkdir()
    (several / "b.py").write_text("# seed b\n")
    (several / "a.py").write_text("# seed a\n")
    return SeedCandidates(tmp_path)


def test_offline_each_seed_is_proposed_once_in_order(seeds):
    proposed: set[str] = set()
    sources = []
    while (draft := write_candidate(request(known_sources=proposed), None, seeds)[0].draft) is not None:
        sources.append(draft.source)
        proposed = proposed | {sha256_text(draft.source)}
    assert sources == ["# seed zero\n", "# seed a\n", "# seed b\n"]


def test_candidates_of_one_round_get_different_seeds(seeds):
    # Written in parallel before either is in the tree: the same `known_sources` for both.
    first, second = (write_candidate(request(), None, seeds)[0].draft for _ in range(2))
    assert first.source != second.source


def test_offline_without_seeds_or_for_another_problem_writes_nothing(seeds):
    assert write_candidate(request(), None, None) == (CoderResult(), TokenUsage())
    assert write_candidate(request(task=task("softmax_rows")), None, seeds)[0].draft is None
