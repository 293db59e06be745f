"""Requests in flight to one endpoint: a bound the probe may change once it knows what the server is."""

from __future__ import annotations

import threading
from types import TracebackType


class RequestLimit:
    """At most `bound` requests in flight; `resize` takes effect for the requests that wait."""

    def __init__(self, bound: int) -> None:
        self._bound = bound
        self._in_flight = 0
        self._changed = threading.Condition()

    @property
    def bound(self) -> int:
        return self._bound

    def resize(self, bound: int) -> None:
        with self._changed:
            self._bound = bound
            self._changed.notify_all()

    def __enter__(self) -> RequestLimit:
        with self._changed:
            self._changed.wait_for(lambda: self._in_flight < self._bound)
            self._in_flight += 1
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()
