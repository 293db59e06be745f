"""The two limits no model call passes: `timeout_s` for one request, first byte to last, and the run's wall budget.

httpx's timeouts are per read: a server that sends a byte every few seconds never trips them, so a
reply that trickles for ever held `llm check` for ever. The transport here gives each request an
end time, makes each read wait no longer than the request's limit, and gives up at the first byte
read after the end (so a request ends within its limit plus one read).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx

from .base import LLMUnavailable


class WallBudgetSpent(LLMUnavailable):
    """The run's wall budget ran out before, or during, a model call."""


class WallClock:
    """When the run's wall budget runs out, shared by every call a provider makes; None: no bound."""

    def __init__(self) -> None:
        self._ends_at: float | None = None
        self._lock = threading.Lock()

    def limit_to(self, seconds: float | None) -> None:
        with self._lock:
            self._ends_at = None if seconds is None else time.monotonic() + seconds

    def remaining_s(self) -> float | None:
        with self._lock:
            return None if self._ends_at is None else self._ends_at - time.monotonic()

    @property
    def spent(self) -> bool:
        remaining = self.remaining_s()
        return remaining is not None and remaining <= 0


class DeadlineTransport(httpx.HTTPTransport):
    """Requests that end `request_s` after they start, or when the wall clock runs out if that is sooner."""

    def __init__(self, request_s: float, wall: WallClock) -> None:
        super().__init__()
        self._request_s = request_s
        self._wall = wall

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        wall = self._wall.remaining_s()
        limit = self._request_s if wall is None else min(self._request_s, wall)
        if limit <= 0:
            # An answer the openai client does not retry (a raised error it would, with backoff, each time).
            return httpx.Response(504, headers={"x-should-retry": "false"}, request=request,
                                  json={"error": {"message": "the run's wall budget is spent"}})
        request.extensions["timeout"] = dict.fromkeys(("connect", "read", "write", "pool"), limit)
        response = super().handle_request(request)
        response.stream = _EndingStream(response.stream, time.monotonic() + limit, limit, request)
        return response


class _EndingStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, ends_at: float, limit: float, request: httpx.Request) -> None:
        self._inner = inner
        self._ends_at = ends_at
        self._limit = limit
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if time.monotonic() > self._ends_at:
                raise httpx.ReadTimeout(f"the reply was still coming after {self._limit:.0f} s", request=self._request)
            yield chunk

    def close(self) -> None:
        self._inner.close()
