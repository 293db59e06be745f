"""The production path, ChatOpenAI over HTTP, against a scripted OpenAI-compatible server on 127.0.0.1.

Token usage counts every response that came back with a body, malformed ones included (the server
billed them). A 429 counts nothing: it has no usage, and the openai client retries it below LangChain.
"""

import json
import threading
from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from kevolve.tools.candidates import Operator, Plan, Role
from kevolve.tools.llm.base import LLMUnavailable, MalformedReply, TokenUsage
from kevolve.tools.llm.openai_chat import OpenAIProvider
from kevolve.tools.llm.settings import LLMSettings, ModelPrice, RoleOverride, StructuredMethod
from local_ports import free_port
from openai_stub import ScriptedServer, error_reply, serve, text_reply, tool_reply

GOOD_PLAN = {"operator": "draft", "strategy": "one fused kernel", "description": "fuse the GELU into one pass"}
MESSAGES = [SystemMessage("You plan GPU kernels."), HumanMessage("Plan the next candidate.")]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with serve(ScriptedServer()) as scripted:
        yield scripted


def settings_for(url: str, **overrides: object) -> LLMSettings:
    values = {"model": "test-model", "base_url": url, "timeout_s": 2.0, "max_retries": 1, "max_repairs": 2,
              "prices": {"test-model": ModelPrice(input_per_million_usd=2.0, output_per_million_usd=10.0)}}
    return LLMSettings.model_validate(values | overrides)


def test_a_rate_limit_and_two_malformed_replies_are_recovered_from(server):
    server.script = [
        error_reply(429, "slow down", **{"Retry-After": "0"}),
        tool_reply('{"operator": "draft", "strategy": ', usage=(100, 10)),  # cut off: not JSON
        tool_reply('{"operator": "draft"}', usage=(120, 12)),  # JSON, but strategy and description missing
        tool_reply(json.dumps(GOOD_PLAN), usage=(140, 14)),
    ]
    llm = OpenAIProvider(settings_for(server.url)).for_role(Role.PLANNER)
    plan, usage = llm.structured(Plan, MESSAGES)

    assert plan == Plan(operator=Operator.DRAFT, strategy="one fused kernel", description="fuse the GELU into one pass")
    assert len(server.requests) == 4
    first, retried, first_repair, second_repair = server.requests
    assert retried == first  # the client's own retry of the 429, unchanged
    assert first["model"] == "test-model" and first["temperature"] == 0.2
    assert first["tool_choice"] == {"type": "function", "function": {"name": "Plan"}}
    assert [m["role"] for m in first["messages"]] == ["system", "user"]

    assert [m["role"] for m in first_repair["messages"]] == ["system", "user", "assistant", "tool", "user"]
    assistant, tool, repair = first_repair["messages"][2:]
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"operator": "draft", "strategy": '
    assert isinstance(assistant["content"], str) and assistant["content"]  # llama.cpp's server refuses null
    assert tool["tool_call_id"] == "call_100"
    assert repair["content"].startswith("Your reply could not be parsed: ")
    assert "are not a JSON object (Expecting value: line 1 column 35" in repair["content"]
    assert repair["content"].endswith("Reply again, in the requested format.")

    last_repair = second_repair["messages"][-1]["content"]
    assert "strategy" in last_repair and "description" in last_repair and "Field required" in last_repair
    assert len(second_repair["messages"]) == 8

    assert usage == TokenUsage(input_tokens=360, output_tokens=36, calls=3,
                               cost_usd=(360 * 2.0 + 36 * 10.0) / 1e6)


def test_repairs_are_bounded(server):
    server.then = tool_reply('{"operator": "draft"}')
    llm = OpenAIProvider(settings_for(server.url, max_repairs=1)).for_role(Role.PLANNER)
    with pytest.raises(MalformedReply, match=r"did not parse into Plan after 1 repairs.*strategy: Field required"):
        llm.structured(Plan, MESSAGES)
    assert len(server.requests) == 2


def test_text_replies_count_their_tokens(server):
    server.script = [text_reply("```python\nclass ModelNew: ...\n```", usage=(50, 7))]
    llm = OpenAIProvider(settings_for(server.url, max_output_tokens=512)).for_role(Role.CODER)
    reply, usage = llm.text(MESSAGES)
    text = reply.text
    assert text == "```python\nclass ModelNew: ...\n```"
    assert (usage.input_tokens, usage.output_tokens, usage.calls) == (50, 7, 1)
    assert "tools" not in server.requests[0]
    assert server.requests[0]["max_completion_tokens"] == 512


def test_a_persistent_server_error_is_unavailable_after_the_clients_retries(server):
    server.then = error_reply(500, "the GPU fell off the bus", **{"retry-after-ms": "1"})
    llm = OpenAIProvider(settings_for(server.url)).for_role(Role.PLANNER)
    with pytest.raises(LLMUnavailable) as raised:
        llm.structured(Plan, MESSAGES)
    message = str(raised.value)
    assert server.url in message and "HTTP 500" in message and "the GPU fell off the bus" in message
    assert len(server.requests) == 2  # max_retries=1: the first try and one retry


def test_a_refused_connection_is_unavailable():
    url = f"http://127.0.0.1:{free_port()}/v1"
    llm = OpenAIProvider(settings_for(url, max_retries=0)).for_role(Role.CODER)
    with pytest.raises(LLMUnavailable, match=f"at {url} could not be reached: .*Connection refused"):
        llm.text(MESSAGES)


def test_a_server_slower_than_the_timeout_is_reported_as_slow_with_the_setting_to_raise(server):
    slow = text_reply("late")
    slow.delay_s = 0.5
    server.then = slow
    llm = OpenAIProvider(settings_for(server.url, timeout_s=0.1, max_retries=0)).for_role(Role.CODER)
    with pytest.raises(LLMUnavailable, match=f"at {server.url} was too slow: no complete reply within "
                                             r"timeout_s=0.1 s .*a slow server needs a larger `timeout_s`"):
        llm.text(MESSAGES)


def test_json_mode_sends_the_schema_in_the_prompt_and_repairs(server):
    server.script = [text_reply('{"operator": "draft", "plan": "fuse"}'), text_reply(json.dumps(GOOD_PLAN))]
    llm = OpenAIProvider(settings_for(server.url, structured_output="json_mode")).for_role(Role.PLANNER)
    plan, usage = llm.structured(Plan, MESSAGES)
    assert plan.strategy == "one fused kernel" and usage.calls == 2
    first = server.requests[0]
    assert first["response_format"] == {"type": "json_object"}
    assert "JSON schema" in first["messages"][-1]["content"] and '"strategy"' in first["messages"][-1]["content"]
    assert "Field required" in server.requests[1]["messages"][-1]["content"]


def test_json_schema_replies_that_fail_validation_are_repaired_without_their_usage(server):
    server.script = [text_reply('{"operator": "draft"}', usage=(100, 10)),
                     text_reply(json.dumps(GOOD_PLAN), usage=(130, 13))]
    llm = OpenAIProvider(settings_for(server.url, structured_output="json_schema")).for_role(Role.PLANNER)
    plan, usage = llm.structured(Plan, MESSAGES)
    assert plan.description == "fuse the GELU into one pass"
    assert server.requests[0]["response_format"]["type"] == "json_schema"
    assert [m["role"] for m in server.requests[1]["messages"]] == ["system", "user", "user"]
    assert "Field required" in server.requests[1]["messages"][-1]["content"]
    # The openai client validates json_schema replies inside the call: the failed one's usage is lost.
    assert (usage.input_tokens, usage.calls) == (130, 1)


def test_roles_get_their_own_model_built_once_and_shared_across_threads(server):
    settings = settings_for(server.url, model=None, roles={
        Role.CODER: RoleOverride(model="big-coder", temperature=0.7, structured_output=StructuredMethod.JSON_MODE)})
    provider = OpenAIProvider(settings)
    assert provider.for_role(Role.PLANNER) is None
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(provider.for_role(Role.CODER))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(llm is seen[0] for llm in seen)
    server.script = [text_reply("ok")]
    seen[0].text(MESSAGES)
    assert (server.requests[0]["model"], server.requests[0]["temperature"]) == ("big-coder", 0.7)


def test_the_reply_limit_is_sent_under_both_names_to_servers_other_than_openai(server):
    # llama-cpp-python's server reads only `max_tokens`; without it a reply ran to the context's end.
    server.script = [text_reply("ok")]
    llm = OpenAIProvider(settings_for(server.url, max_output_tokens=77)).for_role(Role.CODER)
    llm.text(MESSAGES)
    [request] = server.requests
    assert request["max_tokens"] == 77 and request["max_completion_tokens"] == 77
