"""The HTTP server under the app: uvicorn, with deadlines for slow clients and a bound on open connections.

uvicorn times out an idle connection between requests (keep-alive) but not one that is slow to send a
request's headers: a client that opens connections and trickles a byte now and then holds each one open
for ever, and enough of them exhaust the file descriptors. `HeaderDeadline` closes a connection whose
request headers are not complete in time; the body's own deadline is the app's (limits.RequestLimits).
"""

from __future__ import annotations

import asyncio

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import ServeSettings


def server(app: FastAPI, settings: ServeSettings, *, host: str, port: int, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, http=_protocol(settings.header_timeout_s),
        timeout_keep_alive=settings.keep_alive_s, limit_concurrency=settings.max_connections,
        # The request line and headers together (h11's default, stated: the headers are bounded like the body).
        h11_max_incomplete_event_size=16 * 1024,
    )
    return uvicorn.Server(config)


def _protocol(header_timeout_s: float) -> type[H11Protocol]:
    class HeaderDeadline(H11Protocol):
        """Closes the connection when a request's headers are not all in `header_timeout_s` after it opens or
        after its last response."""

        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:  # the headers are in: the body has its own deadline
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.logger.info("closing a connection whose request headers took over %g s", header_timeout_s)
                self.transport.close()

    return HeaderDeadline
