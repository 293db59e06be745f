"""Prompts fitted to a small context window: cut in priority order, whole units only, the same every time."""

import logging

import pytest
from agent_factories import GUIDANCE, accepted, failed, node, plan, task
from scripted_llm import ScriptedLLM

from kevolve.agents.coder import CODER_CUTS, CodingRequest, write_candidate
from kevolve.agents.planner import PLANNER_CUTS, PlannerReply, PlanningRequest, plan_candidates
from kevolve.agents.prompt_budget import (
    PromptTooLarge,
    budget_for,
    count_message_tokens,
    estimate_tokens,
    fit_messages,
)
from kevolve.agents.prompt_cuts import KnowledgeSection, cut_middle, elided_parent
from kevolve.agents.prompting import messages
from kevolve.agents.strategies import strategies_for
from kevolve.tools.candidates import Operator, Role
from kevolve.tools.knowledge.models import EntryKind, Passage, SearchHit
from kevolve.tools.knowledge.prompt_context import format_for_prompt

BUDGET = 4096
MARKER_TEXT = "lines cut to fit the context window ...]"
TRACEBACK = "\n".join(
    ["Traceback (most recent call last):"]
    + [f'  File "candidate.py", line {i}, in forward\n    y = kernel[grid](x, y, n, BLOCK={i})' for i in range(60)]
    + ["IndexError: offsets out of range"]
)
PASSAGES = [f"passage {i}: " + " ".join(["coalesce the loads"] * 60) for i in range(8)]


def knowledge_text(max_words: int = 100_000) -> str:
    hits = [SearchHit(passage=Passage(id=f"p{i}", kind=EntryKind.DOCUMENT, title=f"Doc {i}", text=text,
                                      source=f"doc.md#s{i}"), score=1.0 / (i + 1)) for i, text in enumerate(PASSAGES)]
    return format_for_prompt(hits, max_words=max_words)


def planner_variables() -> dict:
    history = [node(f"n{i:03d}", outcome=accepted(1 + i / 100) if i % 3 == 0 else failed(),
                    made_by=plan(Operator.EXPLORE, (), f"idea {i}"), round_number=i // 2 + 1) for i in range(80)]
    broken = [node(f"b{i}", outcome=failed("runtime_error", TRACEBACK)) for i in range(2)]
    return dict(task=task(), nodes=history + broken, parents=history[:2], repairable=broken,
                failed_strategies=["split-k"], guidance=[GUIDANCE], knowledge=knowledge_text(), count=2,
                strategies=strategies_for(task().reference_source), history_left_out=0)


def test_a_big_planner_prompt_fits_4k_tokens_cut_in_priority_order_and_logged(caplog):
    variables = planner_variables()
    assert count_message_tokens(messages("planner", **variables)) > 2 * BUDGET
    with caplog.at_level(logging.INFO, logger="kevolve.agents.prompt_budget"):
        prompt, cuts = fit_messages("planner", variables, PLANNER_CUTS, BUDGET)
    assert count_message_tokens(prompt) <= BUDGET
    order = [cut.name for cut in PLANNER_CUTS]
    taken = [record.cut for record in cuts]
    assert taken == sorted(taken, key=order.index) and taken[:3] == order[:3]
    assert all(record.tokens_after < record.tokens_before for record in cuts)
    for record in cuts:
        assert f"cut {record.cut} in {len(record.details)} step" in caplog.text
    user = prompt[1].content
    # the history is summarised with a count of what went; the task's reference and guidance are whole
    assert "left out to fit the context window (the best and the most recent are shown)" in user
    assert variables["task"].reference_source.strip() in user and GUIDANCE in user


def test_knowledge_passages_go_whole_lowest_ranked_first():
    variables = planner_variables() | dict(nodes=[], repairable=[], strategies=[])
    size = count_message_tokens(messages("planner", **variables))
    prompt, cuts = fit_messages("planner", variables, PLANNER_CUTS, size - 2 * estimate_tokens(PASSAGES[0]))
    [record] = cuts
    assert record.cut == "knowledge passages" and record.details[0] == f"dropped passage {len(PASSAGES)}"
    user = prompt[1].content
    kept = [text in user for text in PASSAGES]
    assert kept == sorted(kept, reverse=True) and 0 < sum(kept) < len(PASSAGES)  # a prefix of the ranking
    for text in PASSAGES:  # a passage is either there whole or not at all
        assert text in user or text.split(":")[0] + ":" not in user
    assert f"({len(PASSAGES) - sum(kept)} passages left out to fit the context window)" in user


def test_fitting_is_deterministic():
    first = fit_messages("planner", planner_variables(), PLANNER_CUTS, BUDGET)
    second = fit_messages("planner", planner_variables(), PLANNER_CUTS, BUDGET)
    assert [m.content for m in first[0]] == [m.content for m in second[0]] and first[1] == second[1]


def test_long_errors_lose_their_middle_behind_a_marker():
    variables = planner_variables() | dict(nodes=[], strategies=[], knowledge="")
    size = count_message_tokens(messages("planner", **variables))
    prompt, cuts = fit_messages("planner", variables, PLANNER_CUTS, size - 500)
    assert [record.cut for record in cuts] == ["repairable errors"]
    user = prompt[1].content
    assert MARKER_TEXT in user and "IndexError: offsets out of range" in user and "Traceback" in user


def test_a_crossover_coder_prompt_drops_the_second_parent_then_shortens_the_first():
    crossover = plan(Operator.CROSSOVER, ("a", "b"), "combine")
    source = "\n".join(f"x{i} = tl.load(ptr + {i})  # one line of the parent's kernel" for i in range(300))
    variables = dict(task=task(), plan=crossover, parents=[("a", source), ("b", source)], error=None,
                     diagnosis=None, knowledge=knowledge_text(), guidance=[GUIDANCE])
    prompt, cuts = fit_messages("coder", variables, CODER_CUTS, BUDGET)
    assert [record.cut for record in cuts] == ["knowledge passages", "secondary parent sources", "parent source"]
    user = prompt[1].content
    assert count_message_tokens(prompt) <= BUDGET
    assert elided_parent("b") in user and MARKER_TEXT in user and "x0 = " in user and "x299 = " in user


def test_an_impossible_budget_raises_naming_the_role_and_sizes():
    with pytest.raises(PromptTooLarge, match=r"the planner prompt needs about \d+ tokens .* only 300 fit") as caught:
        fit_messages("planner", planner_variables(), PLANNER_CUTS, 300)
    assert caught.value.role == "planner" and caught.value.tokens > caught.value.budget_tokens == 300
    assert [record.cut for record in caught.value.cuts] == [cut.name for cut in PLANNER_CUTS]


def test_no_budget_means_no_cuts():
    variables = planner_variables()
    prompt, cuts = fit_messages("planner", variables, PLANNER_CUTS, None)
    assert cuts == [] and [m.content for m in prompt] == [m.content for m in messages("planner", **variables)]


def test_the_budget_comes_from_the_models_window_less_its_reply_and_a_margin():
    llm = ScriptedLLM(Role.PLANNER)
    assert budget_for(llm) is None and budget_for(None) is None
    llm.context_window = 4096
    assert budget_for(llm) == 4096 - 1024 - 205
    llm.max_output_tokens = 512
    assert budget_for(llm) == 4096 - 512 - 205


def test_roles_fit_their_prompts_to_the_models_window():
    planner = ScriptedLLM(Role.PLANNER, [PlannerReply(plans=[])])
    planner.context_window = BUDGET
    variables = planner_variables()
    request = PlanningRequest(task=variables["task"], nodes=variables["nodes"], parents=variables["parents"],
                              repairable=variables["repairable"], knowledge=variables["knowledge"], count=2)
    plan_candidates(request, planner)
    assert count_message_tokens(planner.received[0]) <= budget_for(planner)

    coder = ScriptedLLM(Role.CODER, ["```python\nclass ModelNew: pass\n```"])
    coder.context_window = BUDGET
    write_candidate(CodingRequest(task=task(), plan=plan(), error=TRACEBACK * 3, knowledge=knowledge_text()), coder)
    assert count_message_tokens(coder.received[0]) <= budget_for(coder)


def test_a_knowledge_section_parses_back_to_the_same_text():
    for text in (knowledge_text(), knowledge_text(max_words=400), "Knowledge base: nothing relevant found.", ""):
        section = KnowledgeSection.parse(text)
        assert str(section) == text and bool(section) == bool(text)
    section = KnowledgeSection.parse(knowledge_text(max_words=400))
    assert len(section.passages) == 2 and section.footer == "(6 more passages left out for length)"
    assert str(section.without_last()).endswith("(1 passage left out to fit the context window)")


def test_a_middle_cut_keeps_both_ends_and_counts_every_line_it_took():
    text = "\n".join(f"line {i}" for i in range(40)) + "\n"
    once, removed = cut_middle(text, 20)
    twice, again = cut_middle(once, 20)
    assert once.endswith("line 39\n") and once.startswith("line 0\n")
    assert f"[... {removed + again} lines cut to fit the context window ...]" in twice
    assert twice.count(MARKER_TEXT) == 1 and len(twice.splitlines()) == 40 - removed - again + 1
    assert cut_middle("a\nb\nc", 100) is None
