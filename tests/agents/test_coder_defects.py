"""Coder replies that give no module are classified (empty, truncated, no code), asked again once, and counted."""

from agent_factories import CANDIDATES, plan, task
from langchain_core.messages import AIMessage, HumanMessage
from scripted_llm import ScriptedLLM

from kevolve.agents.coder import CodingRequest, ReplyDefect, classify, write_candidate
from kevolve.agents.prompt_budget import budget_for, count_message_tokens
from kevolve.tools.candidates import Role
from kevolve.tools.llm.base import TextReply

TRITON = (CANDIDATES / "correct_triton.py").read_text()
ANSWER = f"```python\n{TRITON}```\n"


def request() -> CodingRequest:
    return CodingRequest(task=task(), plan=plan())


def test_replies_are_classified():
    assert classify(TextReply(text=ANSWER)) == (TRITON, None)
    assert classify(TextReply(text="  \n")) == (None, ReplyDefect.EMPTY)
    assert classify(TextReply(text="<think>a kernel, maybe</think>\n")) == (None, ReplyDefect.EMPTY)
    assert classify(TextReply(text="I would fuse the kernels.")) == (None, ReplyDefect.NO_CODE)
    # A complete-looking module cut off by the limit may have lost its last lines: it is not used.
    assert classify(TextReply(text=ANSWER, truncated=True)) == (None, ReplyDefect.TRUNCATED)


def test_a_truncated_reply_is_asked_again_once_to_be_shorter():
    cut = TextReply(text=ANSWER[: len(ANSWER) // 2], truncated=True)
    llm = ScriptedLLM(Role.CODER, [cut, ANSWER])
    result, usage = write_candidate(request(), llm)
    assert result.draft.source == TRITON and result.defects == [ReplyDefect.TRUNCATED] and usage.calls == 2
    first, second = llm.received
    # the cut reply is not sent back: it would fill the window again; the note joins the user's message
    assert not any(isinstance(message, AIMessage) for message in second) and len(second) == len(first)
    reask = second[-1].content
    assert reask.startswith(first[-1].content) and "cut off by the token limit" in reask and "shorter" in reask


def test_an_empty_reply_is_asked_again_and_two_are_counted():
    llm = ScriptedLLM(Role.CODER, ["", TextReply(text="<think>hmm</think>")])
    result, usage = write_candidate(request(), llm)
    assert result.draft is None and result.defects == [ReplyDefect.EMPTY, ReplyDefect.EMPTY]
    assert "it was empty" in llm.last_user_prompt() and usage.calls == 2


def test_prose_then_a_truncated_reply_gives_no_candidate_and_both_defects():
    llm = ScriptedLLM(Role.CODER, ["I would fuse the kernels.", TextReply(text="```python\nimport", truncated=True)])
    result, _ = write_candidate(request(), llm)
    assert result.draft is None and result.defects == [ReplyDefect.NO_CODE, ReplyDefect.TRUNCATED]


def test_a_long_prose_reply_is_not_quoted_back_when_it_would_overflow_the_window():
    prose = "I would fuse the kernels. " * 1500
    llm = ScriptedLLM(Role.CODER, [prose, ANSWER])
    llm.context_window = 8192
    result, _ = write_candidate(request(), llm)
    assert result.draft.source == TRITON and result.defects == [ReplyDefect.NO_CODE]
    retry = llm.received[1]
    assert not any(isinstance(message, AIMessage) for message in retry)
    assert isinstance(retry[-1], HumanMessage) and "no Python module" in retry[-1].content
    assert count_message_tokens(retry) <= budget_for(llm)
