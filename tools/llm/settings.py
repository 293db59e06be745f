"""Which model serves each role, where, and at what price: one typed object, built once by the command line."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from kevolve.tools.candidates import Role
from kevolve.tools.yaml_file import read_yaml

# Fields read from KEVOLVE_LLM_<FIELD>; roles read KEVOLVE_LLM_<ROLE>_MODEL.
_ENVIRONMENT_FIELDS = ("model", "base_url", "api_key", "temperature", "timeout_s", "max_retries",
                       "structured_output", "max_repairs", "max_output_tokens", "max_concurrent_requests",
                       "context_window")


# A hosted API serves many requests at once; a server of one's own often one (a second waits in its queue,
# and its wait counts against the request's timeout).
HOSTED_API_CONCURRENCY = 4
OWN_SERVER_CONCURRENCY = 1


class LLMSettingsError(ValueError):
    """A configuration value is wrong; the message names the variable or the file it came from."""


class StructuredMethod(StrEnum):
    """How a typed reply is asked for. The first four are the ways to ask; `auto` asks the endpoint.

    `auto` probes the endpoint and model once (tools/llm/capabilities.py), uses the first method that
    works in the order below, and moves to the next working one when a call fails for a reason of
    the method (tools/llm/fallback.py). An explicit method is used as given, without probing.
    """

    JSON_SCHEMA = "json_schema"  # OpenAI's structured outputs; llama.cpp's server answers HTTP 500
    FUNCTION_CALLING = "function_calling"  # a forced tool call: OpenAI, vLLM, SGLang, llama.cpp all constrain it
    JSON_MODE = "json_mode"  # any JSON object; the schema only reaches the model through the prompt
    FENCED_JSON = "fenced_json"  # plain text with one ```json block: nothing constrains it but the model
    AUTO = "auto"


class ModelPrice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_million_usd: float = Field(ge=0)
    output_per_million_usd: float = Field(ge=0)

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_million_usd + output_tokens * self.output_per_million_usd) / 1e6


class RoleOverride(BaseModel):
    """What one role changes from the defaults; None keeps the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    structured_output: StructuredMethod | None = None
    context_window: int | None = Field(default=None, gt=0)  # another model has another window


class _ModelFields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = Field(default=None, description="None: no LLM, every role runs its offline policy")
    base_url: str | None = Field(default=None, description="as the OpenAI client takes it, e.g. http://host:8000/v1")
    api_key: SecretStr | None = None
    temperature: float = Field(default=0.2, ge=0, le=2)
    timeout_s: float = Field(default=120.0, gt=0, description="per HTTP request")
    max_retries: int = Field(default=4, ge=0, description="the openai client's retries of 408/409/429/5xx")
    structured_output: StructuredMethod = StructuredMethod.FUNCTION_CALLING
    max_repairs: int = Field(default=2, ge=0, description="re-asks after a reply that does not parse")
    max_output_tokens: int | None = Field(default=None, gt=0)
    max_concurrent_requests: int | None = Field(default=None, ge=1, description=(
        "in flight at once, per endpoint; None: 4 for OpenAI's API, 1 for a server of your own until the probe of "
        "`structured_output: auto` finds what it serves (llama-server's slots; 4 for vLLM and SGLang, which batch)"))
    context_window: int | None = Field(default=None, gt=0, description=(
        "tokens the model takes in one call (prompt and reply); None: what the server tells the probe of "
        "`structured_output: auto` (llama.cpp's llama-server, vLLM, SGLang tell it), else unknown"))


class ResolvedModelSettings(_ModelFields):
    """One role's settings with its override applied and its price looked up."""

    role: Role
    model: str
    price: ModelPrice | None = None


class LLMSettings(_ModelFields):
    """The defaults every role gets, the roles' overrides, and the price table."""

    prices: dict[str, ModelPrice] = Field(default_factory=dict, description="by model name")
    roles: dict[Role, RoleOverride] = Field(default_factory=dict)

    @classmethod
    def load(cls, config_file: Path | None, environ: Mapping[str, str]) -> LLMSettings:
        """The environment overrides the config file, which overrides the defaults.

        The file is YAML with the fields under a top-level `llm:` key; the caller passes None when
        there is none, so a named file that cannot be read is an error.
        Variables: KEVOLVE_LLM_MODEL, _BASE_URL, _API_KEY, _TEMPERATURE, _TIMEOUT_S, _MAX_RETRIES,
        _STRUCTURED_OUTPUT, _MAX_REPAIRS, _MAX_OUTPUT_TOKENS, _MAX_CONCURRENT_REQUESTS, _CONTEXT_WINDOW, and
        KEVOLVE_LLM_<ROLE>_MODEL per role (e.g. KEVOLVE_LLM_CODER_MODEL). OPENAI_API_KEY is the key only
        when neither KEVOLVE_LLM_API_KEY nor the file sets one: it is often exported for another purpose.
        """
        from_file = _validated(_read_file(config_file), lambda loc: f"{config_file}: llm.{'.'.join(loc)}")
        values, variables = from_file.model_dump(), _environment_values(environ)
        for field, (_, value) in variables.items():
            if isinstance(field, Role):
                values["roles"][field] = values["roles"].get(field, {}) | {"model": value}
            else:
                values[field] = value
        if values["api_key"] is None and environ.get("OPENAI_API_KEY"):
            values["api_key"] = environ["OPENAI_API_KEY"]
        return _validated(values, lambda loc: _variable_for(loc, variables))

    @property
    def configured(self) -> bool:
        """Whether any role has a model."""
        return self.model is not None or any(override.model for override in self.roles.values())

    def resolved(self, role: Role) -> ResolvedModelSettings | None:
        """The role's settings, or None when neither the defaults nor its override name a model."""
        values = self.model_dump(exclude={"prices", "roles"})
        if role in self.roles:
            values |= self.roles[role].model_dump(exclude_none=True)
        if values["model"] is None:
            return None
        return ResolvedModelSettings(**values, role=role, price=self.prices.get(values["model"]))

    def concurrency_at(self, endpoint_given: bool) -> int:
        """Requests in flight at once to one endpoint: the configured bound, else the default for its kind."""
        if self.max_concurrent_requests is not None:
            return self.max_concurrent_requests
        return OWN_SERVER_CONCURRENCY if endpoint_given else HOSTED_API_CONCURRENCY


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    document = read_yaml(path, LLMSettingsError)
    section = document.get("llm") if isinstance(document, dict) else document
    if document is None or section is None:
        return {}
    if not isinstance(section, dict):
        raise LLMSettingsError(f"{path}: expected a mapping under a top-level `llm:` key")
    return section


def _environment_values(environ: Mapping[str, str]) -> dict[str | Role, tuple[str, str]]:
    """Each set field (or role, for its model) with the variable it came from."""
    names: dict[str | Role, str] = {field: f"KEVOLVE_LLM_{field.upper()}" for field in _ENVIRONMENT_FIELDS}
    names |= {role: f"KEVOLVE_LLM_{role.name}_MODEL" for role in Role}
    return {field: (name, environ[name]) for field, name in names.items() if environ.get(name)}


def _variable_for(loc: tuple[str, ...], variables: dict[str | Role, tuple[str, str]]) -> str:
    # File values were validated already, so an error here comes from a variable.
    key: str | Role = Role(loc[1]) if loc[0] == "roles" and len(loc) > 1 else loc[0]
    return variables[key][0] if key in variables else "the environment"


def _validated(values: dict[str, Any], source: Callable[[tuple[str, ...]], str]) -> LLMSettings:
    try:
        return LLMSettings.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{source(tuple(str(part) for part in e['loc']))}: {e['msg']}" for e in error.errors())
        raise LLMSettingsError(f"invalid LLM settings: {problems}") from None
