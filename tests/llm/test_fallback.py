"""`structured_output: auto` at run time: the probe's choice, kept in the run's folder, and the fallback
to the next working method when a call shows the chosen one does not work."""

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from kevolve.tools.candidates import Plan, Role
from kevolve.tools.llm.base import LLMUnavailable, MalformedReply
from kevolve.tools.llm.capabilities import PROBE_NUMBER, PROBE_WORD, Capabilities, NoStructuredMethod, ProbeResult
from kevolve.tools.llm.capability_cache import cache_file, save
from kevolve.tools.llm.openai_chat import OpenAIProvider
from kevolve.tools.llm.settings import LLMSettings, StructuredMethod
from openai_stub import ScriptedServer, error_reply, json_reply, llama_cpp_like, serve, text_reply, tool_reply

PLAN = {"operator": "draft", "strategy": "one fused kernel", "description": "fuse the GELU"}
ASK = [HumanMessage("Plan the next candidate.")]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with serve(ScriptedServer()) as scripted:
        yield scripted


def provider_for(url: str, capabilities_dir: Path | None = None, **overrides: object) -> OpenAIProvider:
    values = {"model": "test-model", "base_url": url, "timeout_s": 2.0, "max_retries": 0,
              "structured_output": "auto"}
    return OpenAIProvider(LLMSettings.model_validate(values | overrides), capabilities_dir=capabilities_dir)


def claim(url: str, directory: Path, *working: StructuredMethod) -> None:
    """A cached probe that says `working` work, whatever the server does now."""
    save(directory, Capabilities(
        endpoint=url, model="test-model", probed_at=datetime.now(UTC), text=ProbeResult(works=True),
        structured={m: ProbeResult(works=m in working) for m in StructuredMethod if m is not StructuredMethod.AUTO},
        streaming=ProbeResult(works=True), context_length=None, latency_s=0.1, tokens_per_s=None))


def kinds(server: ScriptedServer) -> list[str]:
    """How each request asked for structure."""
    return [(r.get("response_format") or {}).get("type") or ("tools" if r.get("tools") else "text")
            for r in server.requests]


def test_auto_probes_once_into_the_run_folder_and_uses_the_best_method(server, tmp_path):
    probe_answer = {"word": PROBE_WORD, "number": PROBE_NUMBER}
    server.responder = lambda request: tool_reply(json.dumps(PLAN)) if request.get("tools") and \
        request["tools"][0]["function"]["name"] == "Plan" else llama_cpp_like(probe_answer)(request)
    plan, _ = provider_for(server.url, tmp_path).for_role(Role.PLANNER).structured(Plan, ASK)
    assert plan.strategy == "one fused kernel"
    assert kinds(server)[-1] == "tools" and len(server.requests) == 7  # six probes, then the call
    assert cache_file(tmp_path, server.url, "test-model").is_file()

    # A resumed run reads what the probe found instead of probing again.
    provider_for(server.url, tmp_path).for_role(Role.REVIEWER).structured(Plan, ASK)
    assert len(server.requests) == 8


def test_a_refused_method_falls_back_to_the_next_that_works_and_stays_there(server, tmp_path, caplog):
    claim(server.url, tmp_path, StructuredMethod.JSON_SCHEMA, StructuredMethod.FUNCTION_CALLING)
    server.responder = lambda request: error_reply(500, "response_format type must be text or json_object") \
        if request.get("response_format") else tool_reply(json.dumps(PLAN))
    provider = provider_for(server.url, tmp_path)
    with caplog.at_level(logging.WARNING, logger="kevolve.tools.llm.fallback"):
        provider.for_role(Role.PLANNER).structured(Plan, ASK)
    assert kinds(server) == ["json_schema", "tools"]
    assert "json_schema failed (HTTP 500: response_format type must be text or json_object); " \
           "structured output now through function_calling" in caplog.text
    provider.for_role(Role.ANALYST).structured(Plan, ASK)  # another role on the same endpoint and model
    assert kinds(server) == ["json_schema", "tools", "tools"]


def test_replies_that_never_parse_fall_back_and_are_still_counted(server, tmp_path):
    claim(server.url, tmp_path, StructuredMethod.FUNCTION_CALLING, StructuredMethod.FENCED_JSON)
    server.responder = lambda request: tool_reply('{"operator": ', usage=(10, 5)) if request.get("tools") \
        else text_reply(f"```json\n{json.dumps(PLAN)}\n```", usage=(20, 8))
    plan, usage = provider_for(server.url, tmp_path, max_repairs=1).for_role(Role.PLANNER).structured(Plan, ASK)
    assert plan.description == "fuse the GELU"
    assert kinds(server) == ["tools", "tools", "text"]
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (3, 40, 18)


def test_an_outage_is_not_a_capability_and_changes_nothing(server, tmp_path):
    claim(server.url, tmp_path, StructuredMethod.JSON_SCHEMA, StructuredMethod.FUNCTION_CALLING)
    server.then = error_reply(503, "loading model")
    llm = provider_for(server.url, tmp_path).for_role(Role.PLANNER)
    with pytest.raises(LLMUnavailable, match="HTTP 503: loading model"):
        llm.structured(Plan, ASK)
    assert kinds(server) == ["json_schema"]


def test_the_last_working_method_is_kept_and_its_failure_raised_with_every_attempts_cost(server, tmp_path):
    claim(server.url, tmp_path, StructuredMethod.FUNCTION_CALLING, StructuredMethod.FENCED_JSON)
    server.then = text_reply("no idea", usage=(10, 2))  # no tool call, no JSON block
    llm = provider_for(server.url, tmp_path, max_repairs=0).for_role(Role.PLANNER)
    with pytest.raises(MalformedReply, match="the reply has no ```json fenced block") as raised:
        llm.structured(Plan, ASK)
    assert raised.value.usage.calls == 2
    with pytest.raises(MalformedReply):
        llm.structured(Plan, ASK)
    assert kinds(server) == ["tools", "text", "text"]


def test_threads_share_one_probe_and_one_fallback(server, caplog):
    probe_answer = {"word": PROBE_WORD, "number": PROBE_NUMBER}
    server.responder = lambda request: tool_reply(json.dumps(PLAN)) if request.get("tools") and \
        request["tools"][0]["function"]["name"] == "Plan" else llama_cpp_like(probe_answer)(request)
    provider = provider_for(server.url)
    errors: list[BaseException] = []

    def plan(role: Role) -> None:
        try:
            provider.for_role(role).structured(Plan, ASK)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=plan, args=(role,)) for role in [*Role, *Role]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert kinds(server).count("json_schema") == 1  # the probe's, and no call tried it after
    assert kinds(server).count("tools") == 1 + len(threads)


def test_auto_with_nothing_that_works_stops_with_a_clear_message(server):
    server.then = text_reply("I am a helpful assistant.")
    with pytest.raises(NoStructuredMethod, match=r"no structured-output method works .* `kevolve llm check`"):
        provider_for(server.url).for_role(Role.PLANNER).structured(Plan, ASK)


def test_the_context_window_is_the_configured_one_else_what_the_server_told_the_probe(server):
    server.responder = llama_cpp_like({"word": PROBE_WORD, "number": PROBE_NUMBER})
    server.get_routes = {"/props": json_reply({"default_generation_settings": {"n_ctx": 4096}})}
    told = provider_for(server.url, max_output_tokens=512).for_role(Role.CODER)
    assert (told.context_window, told.max_output_tokens) == (4096, 512)
    assert provider_for(server.url, context_window=2048).for_role(Role.CODER).context_window == 2048
    fixed = provider_for(server.url, structured_output="function_calling", context_window=8192)
    assert fixed.for_role(Role.CODER).context_window == 8192
    assert len(server.requests) == 6  # one probe: a configured window or method needs none
