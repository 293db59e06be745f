"""What one endpoint and model can do, found by probing once with tiny requests, and the method to use.

Each structured-output probe asks for a fixed word and number under a two-field schema and passes
only when the reply parses *and* carries those values: a server can answer every request with
well-formed JSON and still be useless (llama.cpp's JSON mode returns an object with keys of the
model's choosing). A probe makes one attempt, without repairs: the run's repairs are for a model's
slips, not for a method that does not work.

A failure that is the server's (no reply in time, busy, an internal error naming no method: see
faults.py) is marked as such: it says nothing lasting about the method, so such a probe is not kept,
and one whose plain-text call fails that way raises LLMUnavailable rather than report "unusable".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from kevolve.tools.candidates import Role

from .base import LLMUnavailable, MalformedReply
from .deadline import WallBudgetSpent, WallClock
from .faults import is_server_fault, quoted
from .openai_client import api_key_of, chat_openai, endpoint_of
from .server_info import context_length, parallel_requests
from .settings import ResolvedModelSettings, StructuredMethod
from .structured_chat import ChatModelLLM

logger = logging.getLogger(__name__)

# The order `auto` prefers, best first:
#   json_schema       the server constrains the reply to the schema itself (OpenAI, vLLM, SGLang);
#   function_calling  the schema travels as a forced tool's parameters, which most servers constrain;
#   json_mode         the server guarantees JSON, but its keys only from the schema in the prompt;
#   fenced_json       nothing is constrained: the model's own discipline, parsed and repaired.
PREFERENCE = (StructuredMethod.JSON_SCHEMA, StructuredMethod.FUNCTION_CALLING, StructuredMethod.JSON_MODE,
              StructuredMethod.FENCED_JSON)

PROBE_WORD = "falcon"
PROBE_NUMBER = 42
_PROBE_ASK = [SystemMessage("You are a test of replies in a given format. Follow the instructions exactly."),
              HumanMessage(f'Give the word "{PROBE_WORD}" and the number {PROBE_NUMBER}.')]
_TIMING_ASK = [HumanMessage("Count from 1 to 30, numbers separated by spaces, nothing else.")]
# Enough for the counting reply and any probe's JSON; a runaway reply is cut, not waited for.
_PROBE_MAX_TOKENS = 256


class ProbeReply(BaseModel):
    word: str = Field(description="the word you were asked to give")
    number: int = Field(description="the number you were asked to give")


class ProbeResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    works: bool
    error: str | None = None
    seconds: float = 0.0
    server_fault: bool = Field(default=False, description="failed for the server's reason, not the method's")


class Capabilities(BaseModel):
    """One probe of one endpoint and model."""

    model_config = ConfigDict(frozen=True)

    endpoint: str
    model: str
    probed_at: datetime
    timeout_s: float | None = Field(default=None, description="each probe request's limit")
    text: ProbeResult
    structured: dict[StructuredMethod, ProbeResult]
    streaming: ProbeResult
    context_length: int | None = Field(description="tokens, where the server tells it")
    context_length_source: str | None = None
    parallel_requests: int | None = Field(default=None, description="served at once, where the server tells it")
    parallel_requests_source: str | None = None
    latency_s: float | None = Field(description="wall time of a short text call, end to end")
    tokens_per_s: float | None = Field(description="that call's output tokens over its wall time")

    @property
    def usable(self) -> bool:
        """Whether the agents can work here: free text for the coder, and one way to get typed replies."""
        return self.text.works and bool(working_methods(self))

    @property
    def conclusive(self) -> bool:
        """Whether every failure was the method's: only then does the probe say what the endpoint can do."""
        return not any(r.server_fault for r in (self.text, self.streaming, *self.structured.values()))


class NoStructuredMethod(LLMUnavailable):
    """`auto` found no structured-output method that works at this endpoint with this model."""


def working_methods(capabilities: Capabilities) -> list[StructuredMethod]:
    """The methods that passed their probe, best first."""
    return [m for m in PREFERENCE if m in capabilities.structured and capabilities.structured[m].works]


def best_method(capabilities: Capabilities) -> StructuredMethod:
    """The first working method in PREFERENCE; raises NoStructuredMethod naming each method's failure."""
    working = working_methods(capabilities)
    if working:
        return working[0]
    failures = "; ".join(f"{m.value}: {r.error}" for m, r in capabilities.structured.items())
    raise NoStructuredMethod(f"no structured-output method works with {capabilities.model} at "
                             f"{capabilities.endpoint} ({failures}); `kevolve llm check` shows the table")


def probe_capabilities(settings: ResolvedModelSettings, wall: WallClock | None = None) -> Capabilities:
    """Probes the role's endpoint and model; raises LLMUnavailable when the server cannot be reached or fails
    (a plain-text call that gets no answer, a 5xx, or a body that is no chat completion), and WallBudgetSpent
    when `wall` runs out."""
    # Temperature 0: a probe should measure the method, not the sampler's luck. One retry at most:
    # a method the server refuses answers HTTP 4xx/5xx every time, and each retry only waits.
    probing = settings.model_copy(update={"temperature": 0.0, "max_retries": min(settings.max_retries, 1),
                                          "max_output_tokens": _PROBE_MAX_TOKENS})
    model = chat_openai(probing, wall)
    endpoint = endpoint_of(settings)

    def llm(method: StructuredMethod) -> ChatModelLLM:
        return ChatModelLLM(model, role=Role.PLANNER, model_name=settings.model, method=method, max_repairs=0,
                            endpoint=endpoint, wall=wall, timeout_s=settings.timeout_s)

    # A free-text call ignores the method: any will do.
    text, latency_s, tokens_per_s = _probe_text(llm(StructuredMethod.FENCED_JSON))
    structured = {method: _probe_structured(llm(method)) for method in PREFERENCE}
    length, source = context_length(endpoint, settings.model, api_key=api_key_of(settings),
                                    timeout_s=settings.timeout_s)
    parallel, parallel_source = parallel_requests(endpoint, api_key=api_key_of(settings), timeout_s=settings.timeout_s)
    capabilities = Capabilities(
        endpoint=endpoint, model=settings.model, probed_at=datetime.now(UTC), timeout_s=settings.timeout_s,
        text=text, structured=structured,
        streaming=_probe_streaming(model), context_length=length, context_length_source=source,
        parallel_requests=parallel, parallel_requests_source=parallel_source,
        latency_s=latency_s, tokens_per_s=tokens_per_s)
    logger.info("probed %s at %s: %s", settings.model, endpoint,
                ", ".join(f"{m.value} {'works' if r.works else 'fails'}" for m, r in structured.items()))
    return capabilities


def _probe_text(llm: ChatModelLLM) -> tuple[ProbeResult, float | None, float | None]:
    started = time.monotonic()
    try:
        reply, usage = llm.text(_TIMING_ASK)
    except LLMUnavailable as error:
        if is_server_fault(error):
            raise  # nothing usable answered: there is nothing to probe, and nothing to keep
        return ProbeResult(works=False, error=quoted(error.detail), seconds=time.monotonic() - started), None, None
    seconds = time.monotonic() - started
    if not reply.text.strip():
        return ProbeResult(works=False, error="the reply was empty", seconds=seconds), seconds, None
    # Servers that report no usage leave output_tokens at 0: no rate rather than a rate of zero.
    rate = usage.output_tokens / seconds if usage.output_tokens and seconds > 0 else None
    return ProbeResult(works=True, seconds=seconds), seconds, rate


def _probe_structured(llm: ChatModelLLM) -> ProbeResult:
    return _timed(lambda: _check_values(llm.structured(ProbeReply, _PROBE_ASK)[0]))


def _check_values(reply: ProbeReply) -> str | None:
    if reply.word.strip().strip("\"'.").lower() == PROBE_WORD and reply.number == PROBE_NUMBER:
        return None
    return (f"parsed, but with the wrong values: word={reply.word!r}, number={reply.number} "
            f"(asked for {PROBE_WORD!r} and {PROBE_NUMBER})")


def _probe_streaming(model: BaseChatModel) -> ProbeResult:
    def stream() -> str | None:
        try:
            chunks = [chunk for chunk in model.stream(_TIMING_ASK) if chunk.text]
        except ValueError as error:  # LangChain's "No generation chunks were returned": a body, not events
            return f"the server answered a streaming request without server-sent events ({quoted(str(error))})"
        return None if chunks else "the stream ended without any text"

    return _timed(stream)


def _timed(probe: Callable[[], str | None]) -> ProbeResult:
    """Runs `probe`, which returns None when it passed or what was wrong, and times it."""
    started = time.monotonic()
    server_fault = False
    try:
        problem = probe()
    except MalformedReply as error:
        problem = error.problem
    except WallBudgetSpent:
        raise
    except LLMUnavailable as error:
        problem, server_fault = error.detail, is_server_fault(error)
    except openai.APIStatusError as error:  # from the streaming probe, which calls the client directly
        problem, server_fault = error.message, error.status_code >= 500 or error.status_code == 429
    except openai.OpenAIError as error:  # no answer in time, or none at all
        problem, server_fault = getattr(error, "message", None) or str(error), True
    return ProbeResult(works=problem is None, error=quoted(problem) if problem is not None else None,
                       seconds=time.monotonic() - started, server_fault=server_fault)
