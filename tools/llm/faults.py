"""Whose fault a failed model call was: the method's (the server refuses it), or the server's (down, busy, failing).

The difference decides what is kept: a method the server refuses stays refused, while a server that
failed may answer the next time, so its failure is never recorded as a property of the server.
"""

from __future__ import annotations

import re

from .base import LLMUnavailable

_CAPABILITY_STATUSES = frozenset({400, 422, 500, 501})
_CAPABILITY_WORDS = re.compile(r"response_format|json_schema|json_object|schema|tool|function|grammar", re.I)
# Statuses the openai client retries as passing trouble: a timeout, a conflict, too many requests.
_BUSY_STATUSES = frozenset({408, 409, 429})
# Where a server's reply is quoted in a message: enough to recognise it, never a whole page.
QUOTE_LIMIT = 300


def is_capability_error(error: LLMUnavailable) -> bool:
    """Whether the server refused the method (rather than being down, overloaded or refusing the key)."""
    return error.status_code in _CAPABILITY_STATUSES and bool(_CAPABILITY_WORDS.search(error.detail))


def is_server_fault(error: LLMUnavailable) -> bool:
    """Whether the failure says nothing lasting about the endpoint: no answer in time, busy, an internal
    error that names no method, or a 200 whose body was not a chat completion (a proxy's page, a crash)."""
    if is_capability_error(error):
        return False
    status = error.status_code
    return status is None or status == 200 or status in _BUSY_STATUSES or status >= 500


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` on one line, cut to `limit` characters with the length it had."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else f"{flat[:limit]}... ({len(flat)} characters in all)"
