"""ChatOpenAI from one role's settings: the one place the HTTP client's key, timeout and retries are set."""

from __future__ import annotations

from langchain_openai import ChatOpenAI

from .settings import ResolvedModelSettings

# vLLM, SGLang and llama.cpp's server take any key, but the openai client refuses to start without one.
PLACEHOLDER_API_KEY = "not-needed"
OPENAI_BASE_URL = "https://api.openai.com/v1"


def api_key_of(settings: ResolvedModelSettings) -> str:
    return settings.api_key.get_secret_value() if settings.api_key is not None else PLACEHOLDER_API_KEY


def endpoint_of(settings: ResolvedModelSettings) -> str:
    return settings.base_url or OPENAI_BASE_URL


def _extra_body(settings: ResolvedModelSettings) -> dict | None:
    # LangChain sends the reply limit as `max_completion_tokens`, OpenAI's newer name. llama-cpp-python's
    # server ignores that name and generated until its context was full (minutes a call, seen here);
    # servers other than OpenAI's also get the older `max_tokens`, which all of them read.
    if settings.base_url is None or settings.max_output_tokens is None:
        return None
    return {"max_tokens": settings.max_output_tokens}


def chat_openai(settings: ResolvedModelSettings) -> ChatOpenAI:
    return ChatOpenAI(
        model=settings.model,
        base_url=settings.base_url,
        api_key=api_key_of(settings),
        temperature=settings.temperature,
        # Per HTTP request, so a server that hangs costs timeout_s per attempt, not the whole run.
        timeout=settings.timeout_s,
        # The openai client retries 408, 409, 429, 5xx and connection errors with exponential backoff
        # (0.5 s doubling to 8 s) and honours Retry-After: that is the one retry loop, so none is written
        # here. A server restarted within that backoff is never noticed; one that stays down raises.
        max_retries=settings.max_retries,
        max_tokens=settings.max_output_tokens,
        extra_body=_extra_body(settings),
        # LangChain picks OpenAI's Responses API for some model names; other servers answer only
        # /chat/completions, so it is chosen only for OpenAI itself.
        use_responses_api=False if settings.base_url else None,
    )
