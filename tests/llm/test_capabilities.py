"""Probing an endpoint: the structured-output table, streaming, context length, speed; the choice; the cache.

The llama.cpp-like stub does what llama.cpp's Python server did with SmolLM2 (shared/FACTS.md):
json_schema refused with HTTP 500, forced tool calls right, JSON mode with keys of its own.
"""

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from kevolve.tools.candidates import Role
from kevolve.tools.llm.base import LLMUnavailable
from kevolve.tools.llm.capabilities import (
    PROBE_NUMBER,
    PROBE_WORD,
    Capabilities,
    NoStructuredMethod,
    best_method,
    probe_capabilities,
    working_methods,
)
from kevolve.tools.llm.capability_cache import cache_file, capabilities_for, load_cached
from kevolve.tools.llm.server_info import context_length
from kevolve.tools.llm.settings import LLMSettings, ResolvedModelSettings, StructuredMethod
from local_ports import free_port
from openai_stub import Response, ScriptedServer, json_reply, llama_cpp_like, serve, text_reply, tool_reply

ANSWER = {"word": PROBE_WORD, "number": PROBE_NUMBER}
LLAMA_CPP_MODELS = {"/v1/models": json_reply({"data": [{"id": "test-model", "meta": {"n_ctx_train": 8192}}]})}


@pytest.fixture
def llama_cpp() -> Iterator[ScriptedServer]:
    with serve(ScriptedServer(responder=llama_cpp_like(ANSWER), get_routes=dict(LLAMA_CPP_MODELS))) as scripted:
        yield scripted


def settings_for(url: str, **overrides: object) -> ResolvedModelSettings:
    values = {"model": "test-model", "base_url": url, "timeout_s": 2.0, "max_retries": 0}
    return LLMSettings.model_validate(values | overrides).resolved(Role.PLANNER)


def test_a_llama_cpp_like_server_probes_to_its_table_and_function_calling_is_chosen(llama_cpp):
    capabilities = probe_capabilities(settings_for(llama_cpp.url))

    assert {method: result.works for method, result in capabilities.structured.items()} == {
        StructuredMethod.JSON_SCHEMA: False, StructuredMethod.FUNCTION_CALLING: True,
        StructuredMethod.JSON_MODE: False, StructuredMethod.FENCED_JSON: True}
    structured = capabilities.structured
    assert structured[StructuredMethod.JSON_SCHEMA].error == \
        "HTTP 500: response_format type must be text or json_object"
    assert structured[StructuredMethod.JSON_MODE].error == \
        "word: Field required; number: Field required; the reply's keys were: properties"
    assert capabilities.text.works and capabilities.streaming.works and capabilities.usable
    assert (capabilities.context_length, capabilities.context_length_source) == \
        (8192, "GET /v1/models: meta.n_ctx_train")
    assert capabilities.tokens_per_s == pytest.approx(30 / capabilities.latency_s)
    assert best_method(capabilities) is StructuredMethod.FUNCTION_CALLING
    assert working_methods(capabilities) == [StructuredMethod.FUNCTION_CALLING, StructuredMethod.FENCED_JSON]
    # Each probe is one request: no repairs, and a refused method is not retried (max_retries=0 here).
    assert len(llama_cpp.requests) == 6
    assert llama_cpp.requests[-1]["stream"] is True


def test_a_reply_that_parses_with_the_wrong_values_does_not_count(llama_cpp):
    llama_cpp.responder = lambda request: tool_reply(json.dumps({"word": "eagle", "number": PROBE_NUMBER}),
                                                     name="ProbeReply") \
        if request.get("tools") else llama_cpp_like(ANSWER)(request)
    result = probe_capabilities(settings_for(llama_cpp.url)).structured[StructuredMethod.FUNCTION_CALLING]
    assert not result.works
    assert result.error == "parsed, but with the wrong values: word='eagle', number=42 (asked for 'falcon' and 42)"


def test_with_no_working_method_the_endpoint_is_unusable_and_the_choice_says_why(llama_cpp):
    llama_cpp.responder = lambda request: text_reply("I am a helpful assistant.")
    capabilities = probe_capabilities(settings_for(llama_cpp.url))
    assert working_methods(capabilities) == [] and capabilities.text.works and not capabilities.usable
    with pytest.raises(NoStructuredMethod, match=r"no structured-output method works with test-model at .*"
                                                 r"fenced_json: the reply has no ```json fenced block"):
        best_method(capabilities)


def test_an_unreachable_endpoint_raises_rather_than_reporting_every_method_broken():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMUnavailable, match="could not be reached") as raised:
        probe_capabilities(settings_for(url))
    assert raised.value.status_code is None


@pytest.mark.parametrize(("routes", "expected"), [
    ({"/props": {"default_generation_settings": {"n_ctx": 4096}}, "/v1/models": LLAMA_CPP_MODELS["/v1/models"].body},
     (4096, "GET /props: default_generation_settings.n_ctx")),
    ({"/v1/models": {"data": [{"id": "other"}, {"id": "test-model", "max_model_len": 32768}]}},
     (32768, "GET /v1/models: max_model_len")),
    ({"/v1/models": {"data": [{"id": "/models/qwen.gguf", "context_length": 16384}]}},
     (16384, "GET /v1/models: context_length")),
    ({"/v1/models": {"data": [{"id": "a", "max_model_len": 1}, {"id": "b", "max_model_len": 2}]}}, (None, None)),
    ({"/v1/models": {"data": [{"id": "test-model", "max_model_len": True}]}}, (None, None)),
    ({}, (None, None)),
])
def test_the_context_length_is_read_where_each_server_tells_it(routes, expected):
    with serve(ScriptedServer(get_routes={path: Response(200, body) for path, body in routes.items()})) as server:
        assert context_length(server.url, "test-model", api_key="k", timeout_s=2.0) == expected


def test_a_probe_is_cached_per_endpoint_and_model(llama_cpp, tmp_path):
    settings = settings_for(llama_cpp.url)
    first, cached = capabilities_for(settings, tmp_path)
    assert not cached and len(llama_cpp.requests) == 6
    assert cache_file(tmp_path, llama_cpp.url, "test-model").is_file()

    again, cached = capabilities_for(settings, tmp_path)
    assert cached and again == first and len(llama_cpp.requests) == 6

    _, cached = capabilities_for(settings, tmp_path, refresh=True)
    assert not cached and len(llama_cpp.requests) == 12
    other = settings.model_copy(update={"model": "other-model"})
    assert cache_file(tmp_path, llama_cpp.url, "other-model") != cache_file(tmp_path, llama_cpp.url, "test-model")
    assert load_cached(tmp_path, llama_cpp.url, other.model) is None


def test_a_damaged_cache_file_is_probed_again(llama_cpp, tmp_path):
    settings = settings_for(llama_cpp.url)
    cache_file(tmp_path, llama_cpp.url, "test-model").write_text('{"endpoint": ')
    capabilities, cached = capabilities_for(settings, tmp_path)
    assert not cached and Capabilities.model_validate_json(
        cache_file(tmp_path, llama_cpp.url, "test-model").read_text()) == capabilities


def test_a_run_takes_a_recent_llm_check_instead_of_probing_again(llama_cpp, tmp_path):
    settings = settings_for(llama_cpp.url)
    checked, _ = capabilities_for(settings, tmp_path / "check")
    probes = len(llama_cpp.requests)
    taken, cached = capabilities_for(settings, tmp_path / "run", checked_in=tmp_path / "check")
    assert cached and taken == checked and len(llama_cpp.requests) == probes
    assert load_cached(tmp_path / "run", llama_cpp.url, "test-model") == checked  # the run keeps its own copy
    # A check from hours ago may describe a server since restarted with other flags: probed again.
    old = checked.model_copy(update={"probed_at": checked.probed_at - timedelta(hours=2)})
    cache_file(tmp_path / "check", llama_cpp.url, "test-model").write_text(old.model_dump_json())
    _, cached = capabilities_for(settings, tmp_path / "other-run", checked_in=tmp_path / "check")
    assert not cached and len(llama_cpp.requests) == 2 * probes
