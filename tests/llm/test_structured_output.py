"""ChatModelLLM over in-process chat models: parsing, the bounded repair conversation, token counting."""

import json

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import Field

from kevolve.tools.candidates import Plan, ReviewVerdict, Role
from kevolve.tools.llm.base import MalformedReply, TokenUsage
from kevolve.tools.llm.settings import ModelPrice, StructuredMethod
from kevolve.tools.llm.structured_chat import ChatModelLLM
from kevolve.tools.llm.transcript import ScriptedChatModel

GOOD_PLAN = json.dumps({"operator": "draft", "strategy": "fused", "description": "one kernel"})
ASK = [HumanMessage("Plan the next candidate.")]


class RecordingModel(ScriptedChatModel):
    """Keeps each conversation it was sent, so a test can read the repair messages."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        return super()._generate(messages, stop, run_manager, **kwargs)


class TextOnlyModel(GenericFakeChatModel):
    """A model that accepts tools and ignores them, as some servers do: it answers in prose."""

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        return self


def llm_over(model, **options) -> ChatModelLLM:
    return ChatModelLLM(model, role=Role.PLANNER, model_name="fake", **options)


def test_a_good_reply_parses_and_is_priced():
    model = ScriptedChatModel(replies=[GOOD_PLAN])
    price = ModelPrice(input_per_million_usd=3.0, output_per_million_usd=15.0)
    plan, usage = llm_over(model, price=price).structured(Plan, ASK)
    assert (plan.strategy, plan.description) == ("fused", "one kernel")
    tokens_in, tokens_out = len(ASK[0].text) // 4, len(GOOD_PLAN) // 4
    assert usage == TokenUsage(input_tokens=tokens_in, output_tokens=tokens_out, calls=1,
                               cost_usd=(tokens_in * 3.0 + tokens_out * 15.0) / 1e6)


def test_an_unparsable_reply_is_answered_and_asked_again():
    model = RecordingModel(replies=['{"operator": "draft", ', GOOD_PLAN])
    plan, usage = llm_over(model).structured(Plan, ASK)
    assert plan.strategy == "fused" and usage.calls == 2
    first, second = model.seen
    assert first == ASK
    rejected, answer, repair = second[1:]
    assert isinstance(rejected, AIMessage) and rejected.invalid_tool_calls[0]["args"] == '{"operator": "draft", '
    assert isinstance(answer, ToolMessage) and answer.tool_call_id == rejected.invalid_tool_calls[0]["id"]
    assert repair.text == ("Your reply could not be parsed: the arguments of Plan are not a JSON object (Expecting "
                           "property name enclosed in double quotes: line 1 column 23 (char 22))\n"
                           "Reply again, in the requested format.")


def test_a_reply_missing_fields_names_them():
    model = RecordingModel(replies=['{"approved": "maybe"}', '{"approved": false, "reasons": ["reads out of bounds"]}'])
    verdict, _ = llm_over(model).structured(ReviewVerdict, ASK)
    assert verdict == ReviewVerdict(approved=False, reasons=["reads out of bounds"])
    repair = model.seen[1][-1].text
    assert "approved: Input should be a valid boolean" in repair
    assert "errors.pydantic.dev" not in repair


def test_a_prose_reply_to_a_structured_request_is_malformed():
    # The JSON in the second reply is prose too: the function-calling parser reads tool calls only.
    model = TextOnlyModel(messages=iter(["I would fuse the kernels.", GOOD_PLAN, "unreached"]))
    with pytest.raises(MalformedReply, match=r"after 1 repairs.*no tool call and no JSON object"):
        llm_over(model, max_repairs=1).structured(Plan, ASK)
    assert next(model.messages) == "unreached"


@pytest.mark.parametrize("max_repairs", [0, 1, 3])
def test_repairs_are_bounded(max_repairs):
    model = RecordingModel(replies=["not json"] * 10)
    with pytest.raises(MalformedReply, match=f"did not parse into Plan after {max_repairs} repairs"):
        llm_over(model, max_repairs=max_repairs).structured(Plan, ASK)
    assert len(model.seen) == max_repairs + 1


def test_json_mode_puts_the_schema_in_the_conversation():
    model = RecordingModel(replies=[GOOD_PLAN])
    llm_over(model, method=StructuredMethod.JSON_MODE).structured(Plan, ASK)
    instruction = model.seen[0][-1].text
    assert instruction.startswith("Reply with one JSON object valid under this JSON schema:")
    assert json.loads(instruction.split("\n", 1)[1]) == Plan.model_json_schema()


def test_text_replies_pass_through_with_their_usage():
    reply = AIMessage("```python\nclass ModelNew: ...\n```",
                      usage_metadata={"input_tokens": 12, "output_tokens": 5, "total_tokens": 17})
    text, usage = llm_over(GenericFakeChatModel(messages=iter([reply]))).text(ASK)
    text = text.text
    assert text == "```python\nclass ModelNew: ...\n```"
    assert (usage.input_tokens, usage.output_tokens, usage.calls, usage.cost_usd) == (12, 5, 1, 0.0)


def test_fenced_json_asks_for_a_block_and_reads_it_out_of_prose():
    reply = AIMessage(f"Here is the plan:\n```json\n{GOOD_PLAN}\n```\nGood luck.")
    model = GenericFakeChatModel(messages=iter([reply]))
    plan, _ = llm_over(model, method=StructuredMethod.FENCED_JSON).structured(Plan, ASK)
    assert plan.strategy == "fused"


@pytest.mark.parametrize(("reply", "complaint"), [
    ("I would fuse them.", "the reply has no ```json fenced block"),
    ('```json\n{"operator": "draft"}', "strategy: Field required"),  # never closed: read to the end
    ('```\n{"approach": "fuse"}\n```', "the reply's keys were: approach"),
    ('```json\n{"operator": "draft", \n```', "Invalid JSON"),
])
def test_fenced_json_repairs_say_what_was_wrong(reply, complaint):
    model = RecordingModel(replies=[reply, GOOD_PLAN])
    plan, usage = llm_over(model, method=StructuredMethod.FENCED_JSON).structured(Plan, ASK)
    assert plan.strategy == "fused" and usage.calls == 2  # the second reply is a bare object: taken as is
    instruction, rejected, repair = model.seen[1][1:]
    assert "inside one ```json fenced code block" in instruction.text
    assert rejected.text == reply and complaint in repair.text


def test_a_fenced_reply_cut_by_the_token_limit_is_said_to_be_cut():
    cut = AIMessage('```json\n{"operator": "dra', response_metadata={"finish_reason": "length"})
    model = GenericFakeChatModel(messages=iter([cut]))
    with pytest.raises(MalformedReply, match="cut off by the token limit"):
        llm_over(model, method=StructuredMethod.FENCED_JSON, max_repairs=0).structured(Plan, ASK)
