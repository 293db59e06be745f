"""LLM settings: defaults, the file, the environment over the file, per-role overrides, clear errors; the factory."""

from pathlib import Path

import pytest

from kevolve.tools.candidates import Role
from kevolve.tools.llm.factory import make_llm_provider
from kevolve.tools.llm.openai_chat import OpenAIProvider
from kevolve.tools.llm.settings import LLMSettings, LLMSettingsError, ModelPrice, StructuredMethod
from kevolve.tools.llm.transcript import TranscriptProvider

CONFIG = """
knowledge: {backend: embedded}
llm:
  model: qwen-coder
  base_url: http://gpu-box:8000/v1
  temperature: 0.4
  max_output_tokens: 4096
  prices:
    qwen-coder: {input_per_million_usd: 0.5, output_per_million_usd: 1.5}
    gpt-big: {input_per_million_usd: 5, output_per_million_usd: 20}
  roles:
    planner: {model: gpt-big, base_url: https://api.openai.com/v1, api_key: sk-planner, structured_output: json_schema}
    reviewer: {temperature: 0.0}
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "kevolve.yaml"
    path.write_text(CONFIG)
    return path


def test_defaults_configure_no_model():
    settings = LLMSettings.load(None, {})
    assert settings.model is None and not settings.configured
    assert (settings.temperature, settings.timeout_s, settings.max_retries, settings.max_repairs) == (0.2, 120, 4, 2)
    assert settings.structured_output is StructuredMethod.FUNCTION_CALLING and settings.max_concurrent_requests is None
    # Unset, the bound depends on the server: OpenAI's API takes several at once, a local server one.
    assert (settings.concurrency_at(endpoint_given=False), settings.concurrency_at(endpoint_given=True)) == (4, 1)
    assert all(settings.resolved(role) is None for role in Role)
    auto = LLMSettings.load(None, {"KEVOLVE_LLM_STRUCTURED_OUTPUT": "auto", "KEVOLVE_LLM_MAX_CONCURRENT_REQUESTS": "2",
                                   "KEVOLVE_LLM_CONTEXT_WINDOW": "8192"})
    assert (auto.structured_output, auto.max_concurrent_requests, auto.context_window) == \
        (StructuredMethod.AUTO, 2, 8192)


def test_the_file_sets_defaults_and_roles_override_them(config_file):
    settings = LLMSettings.load(config_file, {})
    coder = settings.resolved(Role.CODER)
    assert (coder.model, coder.base_url, coder.temperature, coder.max_output_tokens) == \
        ("qwen-coder", "http://gpu-box:8000/v1", 0.4, 4096)
    assert coder.api_key is None and coder.structured_output is StructuredMethod.FUNCTION_CALLING
    assert coder.price == ModelPrice(input_per_million_usd=0.5, output_per_million_usd=1.5)
    planner = settings.resolved(Role.PLANNER)
    assert (planner.model, planner.base_url, planner.api_key.get_secret_value()) == \
        ("gpt-big", "https://api.openai.com/v1", "sk-planner")
    assert planner.structured_output is StructuredMethod.JSON_SCHEMA and planner.price.output_per_million_usd == 20
    assert (planner.temperature, planner.role) == (0.4, Role.PLANNER)
    assert settings.resolved(Role.REVIEWER).temperature == 0.0
    assert "sk-planner" not in repr(settings) + repr(planner)


def test_the_environment_overrides_the_file(config_file):
    environ = {"KEVOLVE_LLM_MODEL": "llama-70b", "KEVOLVE_LLM_TEMPERATURE": "0.9", "KEVOLVE_LLM_TIMEOUT_S": "30",
               "KEVOLVE_LLM_MAX_RETRIES": "7", "KEVOLVE_LLM_STRUCTURED_OUTPUT": "json_mode",
               "KEVOLVE_LLM_PLANNER_MODEL": "o-think", "KEVOLVE_LLM_ANALYST_MODEL": "small", "KEVOLVE_LLM_API_KEY": "k"}
    settings = LLMSettings.load(config_file, environ)
    coder = settings.resolved(Role.CODER)
    assert (coder.model, coder.temperature, coder.timeout_s, coder.max_retries) == ("llama-70b", 0.9, 30, 7)
    assert coder.structured_output is StructuredMethod.JSON_MODE and coder.api_key.get_secret_value() == "k"
    assert coder.base_url == "http://gpu-box:8000/v1"  # not in the environment: the file's value stays
    planner = settings.resolved(Role.PLANNER)
    assert (planner.model, planner.api_key.get_secret_value()) == ("o-think", "sk-planner")
    assert planner.base_url == "https://api.openai.com/v1"  # the rest of the file's override stays
    assert settings.resolved(Role.ANALYST).model == "small"


def test_openai_api_key_is_the_last_resort(config_file):
    assert LLMSettings.load(None, {"OPENAI_API_KEY": "sk-env"}).api_key.get_secret_value() == "sk-env"
    both = {"OPENAI_API_KEY": "sk-env", "KEVOLVE_LLM_API_KEY": "sk-kevolve"}
    assert LLMSettings.load(None, both).api_key.get_secret_value() == "sk-kevolve"
    config_file.write_text("llm: {api_key: sk-file}")
    assert LLMSettings.load(config_file, {"OPENAI_API_KEY": "sk-env"}).api_key.get_secret_value() == "sk-file"


def test_one_role_alone_can_be_configured():
    settings = LLMSettings.load(None, {"KEVOLVE_LLM_CODER_MODEL": "coder-7b"})
    assert settings.configured
    assert settings.resolved(Role.CODER).model == "coder-7b"
    assert settings.resolved(Role.PLANNER) is None


@pytest.mark.parametrize(("variable", "value", "complaint"), [
    ("KEVOLVE_LLM_TEMPERATURE", "hot", "valid number"),
    ("KEVOLVE_LLM_TEMPERATURE", "3", "less than or equal to 2"),
    ("KEVOLVE_LLM_MAX_RETRIES", "-1", "greater than or equal to 0"),
    ("KEVOLVE_LLM_TIMEOUT_S", "0", "greater than 0"),
    ("KEVOLVE_LLM_STRUCTURED_OUTPUT", "xml", "'json_mode', 'fenced_json' or 'auto'"),
    ("KEVOLVE_LLM_MAX_CONCURRENT_REQUESTS", "0", "greater than or equal to 1"),
])
def test_a_bad_variable_is_named(variable, value, complaint):
    with pytest.raises(LLMSettingsError) as raised:
        LLMSettings.load(None, {variable: value})
    message = str(raised.value)
    assert f"{variable}: " in message and complaint in message
    assert raised.value.__cause__ is None and "errors.pydantic.dev" not in message


@pytest.mark.parametrize(("content", "complaint"), [
    ("llm: {temprature: 0.1}", "llm.temprature: Extra inputs are not permitted"),
    ("llm: {roles: {optimizer: {model: x}}}", "llm.roles.optimizer.[key]: Input should be 'planner'"),
    ("llm: {roles: {coder: {model: x, top_p: 1}}}", "llm.roles.coder.top_p: Extra inputs are not permitted"),
    ("llm: {prices: {m: {input_per_million_usd: -1, output_per_million_usd: 1}}}", "greater than or equal to 0"),
    ("llm: [model]", "expected a mapping under a top-level `llm:` key"),
    ("llm: {model: [unclosed", "not valid YAML"),
    (None, "cannot read it: [Errno 2] No such file"),
])
def test_a_bad_file_is_named(tmp_path, content, complaint):
    path = tmp_path / "kevolve.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(LLMSettingsError, match=r"kevolve\.yaml") as raised:
        LLMSettings.load(path, {})
    assert complaint in str(raised.value)


def test_the_factory_prefers_a_transcript_and_otherwise_needs_a_model(tmp_path):
    transcript = tmp_path / "replay.yaml"
    transcript.write_text("coder: [hello]")
    configured = LLMSettings(model="m", base_url="http://127.0.0.1:9/v1")
    assert make_llm_provider(LLMSettings()) is None
    assert isinstance(make_llm_provider(configured), OpenAIProvider)
    replay = make_llm_provider(configured, transcript=transcript)
    assert isinstance(replay, TranscriptProvider)
    assert replay.for_role(Role.PLANNER) is None and replay.for_role(Role.CODER).text([])[0].text == "hello"
