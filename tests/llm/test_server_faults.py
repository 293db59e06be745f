"""Servers that misbehave, as real ones were seen to: each fault ends within its deadline, with a clear
message that quotes the server's reply (cut short), and a failure of the server's is never kept.

Issue 22's fault list: 500 always; 500 then healthy; a 200 body that is not JSON; a plain body to a
streaming request; a reply that trickles and never ends; a stall; a 200 KB reply. Every request also
carries a reply limit, configured or not.
"""

import threading
import time
from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage

from kevolve.tools.candidates import Role
from kevolve.tools.llm.base import LLMUnavailable
from kevolve.tools.llm.capabilities import PROBE_NUMBER, PROBE_WORD, probe_capabilities
from kevolve.tools.llm.capability_cache import cache_file, capabilities_for, load_cached
from kevolve.tools.llm.deadline import WallBudgetSpent
from kevolve.tools.llm.openai_chat import OpenAIProvider
from kevolve.tools.llm.settings import LLMSettings, StructuredMethod
from kevolve.tools.llm.tokens import DEFAULT_OUTPUT_RESERVE, count_message_tokens
from openai_stub import (
    ScriptedServer,
    error_reply,
    json_reply,
    llama_cpp_like,
    raw_reply,
    serve,
    text_reply,
    trickling_reply,
)

ASK = [HumanMessage("Write the kernel.")]
ANSWER = {"word": PROBE_WORD, "number": PROBE_NUMBER}
BIG_PAGE = b"<html><body>" + b"proxy error " * 20_000 + b"</body></html>"  # about 240 KB


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with serve(ScriptedServer(then=text_reply("ok"))) as scripted:
        yield scripted


def settings_for(url: str, **overrides: object) -> LLMSettings:
    values = {"model": "test-model", "base_url": url, "timeout_s": 2.0, "max_retries": 0}
    return LLMSettings.model_validate(values | overrides)


def coder(url: str, **overrides: object):
    return OpenAIProvider(settings_for(url, **overrides)).for_role(Role.CODER)


def test_a_reply_limit_is_sent_when_none_is_configured(server):
    coder(server.url).text(ASK)
    assert server.requests[-1]["max_tokens"] == DEFAULT_OUTPUT_RESERVE
    # With the window known, what the prompt leaves of it (less 5% for what the estimate cannot see).
    long_ask = [HumanMessage("x " * 12_000)]
    coder(server.url, context_window=8192).text(long_ask)
    assert server.requests[-1]["max_tokens"] == 8192 - count_message_tokens(long_ask) - 410
    coder(server.url, max_output_tokens=300, context_window=8192).text(long_ask)
    assert server.requests[-1]["max_tokens"] == 300


def test_under_auto_the_reply_limit_comes_from_the_window_the_server_reports(server):
    server.then, server.responder = None, llama_cpp_like(ANSWER)
    server.get_routes["/v1/models"] = json_reply({"data": [{"id": "test-model", "max_model_len": 4096}]})
    long_ask = [HumanMessage("x " * 5_000)]
    coder(server.url, structured_output="auto").text(long_ask)
    assert server.requests[-1]["max_tokens"] == 4096 - count_message_tokens(long_ask) - 205


def test_a_200_whose_body_is_not_json_is_unavailable_quoting_the_body_cut_short(server):
    server.then = raw_reply(BIG_PAGE)
    with pytest.raises(LLMUnavailable) as raised:
        coder(server.url).text(ASK)
    message = str(raised.value)
    assert "HTTP 200 with a body that is not a chat completion: " in message
    assert "<html><body>proxy error" in message and len(message) < 1000 and raised.value.status_code == 200


def test_a_200_json_body_that_does_not_parse_is_quoted_from_the_body(server):
    server.then = raw_reply(b"Internal " * 100, content_type="application/json")
    with pytest.raises(LLMUnavailable, match=r"not a chat completion: Internal Internal .*\(899 characters in all\)"):
        coder(server.url).text(ASK)


def test_a_200_kb_error_reply_is_quoted_cut_short(server):
    server.then = error_reply(400, "bad request " * 20_000)
    with pytest.raises(LLMUnavailable, match="HTTP 400: bad request bad request") as raised:
        coder(server.url).text(ASK)
    assert len(str(raised.value)) < 1000


def test_a_reply_that_trickles_for_ever_ends_at_timeout_s(server):
    server.then = trickling_reply(every_s=0.05)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match=r"too slow: no complete reply within timeout_s=0\.5 s"):
        coder(server.url, timeout_s=0.5).text(ASK)
    assert time.monotonic() - started < 1.5  # each read succeeds: only a limit on the whole request ends it


def test_the_wall_budget_ends_a_call_in_flight_and_starts_no_other(server):
    stall = text_reply("late")
    stall.delay_s = 5.0
    server.then = stall
    provider = OpenAIProvider(settings_for(server.url, timeout_s=60.0, max_retries=4))
    provider.limit_wall_time(0.4)
    started = time.monotonic()
    with pytest.raises(WallBudgetSpent, match="wall budget ran out while the coder model"):
        provider.for_role(Role.CODER).text(ASK)
    assert time.monotonic() - started < 2.0  # not timeout_s, nor its retries
    sent = len(server.requests)
    with pytest.raises(WallBudgetSpent, match="spent before the planner model"):
        provider.for_role(Role.PLANNER).text(ASK)
    assert len(server.requests) == sent


def test_a_plain_body_to_a_streaming_request_fails_the_streaming_probe_only(server):
    healthy = llama_cpp_like(ANSWER)

    def plain_bodies(request: dict):
        response = healthy(request)
        response.streams = False
        return response

    server.then, server.responder = None, plain_bodies
    capabilities = probe_capabilities(settings_for(server.url).resolved(Role.PLANNER))
    assert capabilities.usable and not capabilities.streaming.works
    assert "without server-sent events" in capabilities.streaming.error


def test_a_server_answering_500_to_everything_is_unavailable_and_nothing_is_kept(server, tmp_path):
    server.then = error_reply(500, "internal error")
    settings = settings_for(server.url, structured_output="auto").resolved(Role.PLANNER)
    with pytest.raises(LLMUnavailable, match="HTTP 500: internal error"):
        capabilities_for(settings, tmp_path)
    assert not cache_file(tmp_path, server.url, "test-model").exists()


def test_a_stored_probe_that_found_nothing_usable_is_made_again(server, tmp_path):
    """A probe kept by an earlier version (every method failing on a 500) or while a server was broken."""
    server.then = error_reply(500, "internal error")
    server.script = [text_reply("1 2 3")]  # the plain-text probe passes; every structured one gets the 500
    settings = settings_for(server.url, structured_output="auto").resolved(Role.PLANNER)
    broken, _ = capabilities_for(settings, None)
    assert not broken.usable and all(result.server_fault for result in broken.structured.values())
    assert not broken.conclusive
    # Written as an older version would have: the server's failures look like the methods'.
    (tmp_path / cache_file(tmp_path, server.url, "test-model").name).write_text(broken.model_copy(update={
        "structured": {m: r.model_copy(update={"server_fault": False}) for m, r in broken.structured.items()}
    }).model_dump_json())
    server.then, server.responder = None, llama_cpp_like(ANSWER)
    healthy, cached = capabilities_for(settings, tmp_path)
    assert not cached and healthy.usable and healthy.conclusive
    assert load_cached(tmp_path, server.url, "test-model") == healthy


def test_500s_then_healthy_is_ridden_out_by_the_retries(server):
    server.script = [error_reply(500, "loading model"), error_reply(503, "busy")]
    reply, usage = coder(server.url, max_retries=2).text(ASK)
    assert reply.text == "ok" and usage.calls == 1 and len(server.requests) == 3


def test_a_method_the_server_refuses_is_still_a_conclusive_failure(server):
    server.then, server.responder = None, llama_cpp_like(ANSWER)
    capabilities = probe_capabilities(settings_for(server.url).resolved(Role.PLANNER))
    refused = capabilities.structured[StructuredMethod.JSON_SCHEMA]
    assert not refused.works and not refused.server_fault and capabilities.conclusive


@pytest.mark.parametrize(("routes", "bound"), [
    ({"/props": {"total_slots": 3, "default_generation_settings": {"n_ctx": 8192}}}, 3),  # llama-server --parallel 3
    ({"/v1/models": {"data": [{"id": "test-model", "max_model_len": 8192}]}}, 4),  # vLLM, SGLang: they batch
    ({}, 1),  # says nothing: one at a time
])
def test_unconfigured_the_requests_in_flight_are_what_the_probe_finds_the_server_serves(server, routes, bound):
    answer = llama_cpp_like(ANSWER)

    def slowly(request: dict):
        response = answer(request)
        response.delay_s = 0.1
        return response

    server.then, server.responder = None, slowly
    server.get_routes.update({path: json_reply(body) for path, body in routes.items()})
    # A generous timeout: on a loaded CI machine a 2 s one can expire on a 0.1 s reply, and the retry then puts a
    # second request in flight beside the one the server is still answering, which is not what is measured here.
    coder_llm = coder(server.url, structured_output="auto", timeout_s=60.0)
    threads = [threading.Thread(target=coder_llm.text, args=(ASK,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.max_in_flight == bound


def test_a_stream_that_trickles_for_ever_fails_the_streaming_probe_at_timeout_s(server):
    answer = llama_cpp_like(ANSWER)
    server.then, server.responder = None, lambda request: trickling_reply() if request.get("stream") else \
        answer(request)
    started = time.monotonic()
    capabilities = probe_capabilities(settings_for(server.url, timeout_s=0.5).resolved(Role.PLANNER))
    assert capabilities.usable and not capabilities.streaming.works and capabilities.streaming.server_fault
    assert "timed out" in capabilities.streaming.error and time.monotonic() - started < 5
