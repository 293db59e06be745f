"""What an OpenAI-compatible server says about itself outside the chat API: the model's context length,
and how many requests it serves at once.

Each server says it its own way, and some not at all (OpenAI, Ollama's /v1, llama-cpp-python):
    llama.cpp's llama-server  GET /props   default_generation_settings.n_ctx (the context it serves)
                              GET /v1/models  data[].meta.n_ctx_train (what the model was trained on)
    vLLM, SGLang              GET /v1/models  data[].max_model_len
    LM Studio, OpenRouter     GET /v1/models  data[].context_length
The served context comes first: llama-server often serves less than the model was trained on.

Requests served at once: llama-server says its slots (GET /props: total_slots, `--parallel`); vLLM and
SGLang batch whatever comes (their listing carries max_model_len): several at once suit them.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

logger = logging.getLogger(__name__)

_MODEL_KEYS = (("max_model_len",), ("context_length",), ("meta", "n_ctx_train"))


def context_length(base_url: str, model: str, *, api_key: str, timeout_s: float) -> tuple[int | None, str | None]:
    """The context length in tokens and where it was read, or (None, None) when the server does not say."""
    headers = {"Authorization": f"Bearer {api_key}"}
    root = base_url.rstrip("/").removesuffix("/v1")
    props = _get_json(f"{root}/props", headers, timeout_s)
    served = _dig(props, ("default_generation_settings", "n_ctx"))
    if served is not None:
        return served, "GET /props: default_generation_settings.n_ctx"
    listing = _get_json(f"{base_url.rstrip('/')}/models", headers, timeout_s)
    entries = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(entries, list):
        return None, None
    # Servers that serve one model often list it under another name (a file path, an alias).
    matching = [e for e in entries if isinstance(e, dict) and e.get("id") == model]
    entry = matching[0] if matching else entries[0] if len(entries) == 1 else None
    for keys in _MODEL_KEYS:
        value = _dig(entry, keys)
        if value is not None:
            return value, f"GET /v1/models: {'.'.join(keys)}"
    return None, None


# In flight at once to a server that batches requests (vLLM, SGLang).
BATCHING_SERVER_CONCURRENCY = 4


def parallel_requests(base_url: str, *, api_key: str, timeout_s: float) -> tuple[int | None, str | None]:
    """Requests the server serves at once and where that was read, or (None, None) when it does not say."""
    headers = {"Authorization": f"Bearer {api_key}"}
    slots = _dig(_get_json(f"{base_url.rstrip('/').removesuffix('/v1')}/props", headers, timeout_s), ("total_slots",))
    if slots is not None:
        return slots, "GET /props: total_slots"
    listing = _get_json(f"{base_url.rstrip('/')}/models", headers, timeout_s)
    entries = listing.get("data") if isinstance(listing, dict) else None
    if isinstance(entries, list) and any(_dig(entry, ("max_model_len",)) for entry in entries):
        return BATCHING_SERVER_CONCURRENCY, "GET /v1/models: max_model_len (vLLM or SGLang, which batch)"
    return None, None


def _get_json(url: str, headers: dict[str, str], timeout_s: float) -> Any:
    try:
        response = httpx.get(url, headers=headers, timeout=timeout_s)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as error:  # ValueError: a body that is not JSON
        logger.info("%s told nothing: %s", url, error)
        return None


def _dig(document: Any, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    # bool is an int to Python; a positive integer is the only believable length.
    return document if isinstance(document, int) and not isinstance(document, bool) and document > 0 else None
