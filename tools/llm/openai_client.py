"""ChatOpenAI from one role's settings: the one place the HTTP client's key, timeout and retries are set."""

from __future__ import annotations

import httpx
from langchain_openai import ChatOpenAI

from .deadline import DeadlineTransport, WallClock
from .settings import ResolvedModelSettings

# vLLM, SGLang and llama.cpp's server take any key, but the openai client refuses to start without one.
PLACEHOLDER_API_KEY = "not-needed"
OPENAI_BASE_URL = "https://api.openai.com/v1"


def api_key_of(settings: ResolvedModelSettings) -> str:
    return settings.api_key.get_secret_value() if settings.api_key is not None else PLACEHOLDER_API_KEY


def endpoint_of(settings: ResolvedModelSettings) -> str:
    return settings.base_url or OPENAI_BASE_URL


def chat_openai(settings: ResolvedModelSettings, wall: WallClock | None = None) -> ChatOpenAI:
    """The role's client; `wall` (shared by a provider's calls) ends every request when the run's time is up."""
    model = ChatOpenAI(
        model=settings.model,
        base_url=settings.base_url,
        api_key=api_key_of(settings),
        temperature=settings.temperature,
        # Per HTTP request, first byte to last (the transport's doing), so a server that hangs or trickles
        # costs timeout_s per attempt, not the whole run.
        timeout=settings.timeout_s,
        http_client=httpx.Client(transport=DeadlineTransport(settings.timeout_s, wall or WallClock())),
        # The openai client retries 408, 409, 429, 5xx and connection errors with exponential backoff
        # (0.5 s doubling to 8 s) and honours Retry-After: that is the one retry loop, so none is written
        # here. A server restarted within that backoff is never noticed; one that stays down raises.
        max_retries=settings.max_retries,
        # LangChain picks OpenAI's Responses API for some model names; other servers answer only
        # /chat/completions, so it is chosen only for OpenAI itself.
        use_responses_api=False if settings.base_url else None,
    )
    return with_reply_limit(model, settings.max_output_tokens) if settings.max_output_tokens else model


def with_reply_limit(model: ChatOpenAI, tokens: int) -> ChatOpenAI:
    """`model` asking for at most `tokens` of reply; the copy shares the HTTP client."""
    # LangChain sends the limit as `max_completion_tokens`, OpenAI's newer name. llama-cpp-python's
    # server ignores that name and generated until its context was full (minutes a call, seen here);
    # servers other than OpenAI's also get the older `max_tokens`, which all of them read.
    other_server = model.openai_api_base not in (None, OPENAI_BASE_URL)
    return model.model_copy(update={"max_tokens": tokens,
                                    "extra_body": {"max_tokens": tokens} if other_server else None})
