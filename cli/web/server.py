"""The HTTP server under the app: uvicorn, with deadlines for slow clients and a bound on open connections.

uvicorn times out an idle connection between requests (keep-alive), but every byte received resets that
timer, and none runs before the first request: a client that opens connections and trickles a byte now
and then holds each one open for ever, and enough of them exhaust the file descriptors. `HeaderDeadline`
closes a connection on which no complete request arrives in time; the deadline of a body the app reads is
the app's (limits.RequestLimits).
"""

from __future__ import annotations

import asyncio

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
        """Closes the connection when the next request's headers are not all in `header_timeout_s` after it
        opens or after its last response. The clock runs until a new request starts, so neither bytes of a
        header nor the rest of a body the app did not read (a page that takes none) keep it open."""

        _header_timer: asyncio.TimerHandle | None = None
        _waiting_after: object = None  # the request cycle the timer was armed after (None: none yet)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is not self._waiting_after:  # a new request's headers are in: the app's limits apply
                self._disarm()

        def on_response_complete(self) -> None:
            finished = self.cycle
            super().on_response_complete()  # may start a pipelined request, which needs no deadline
            if self.cycle is finished and not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._waiting_after = self.cycle
            self._header_timer = self.loop.call_later(header_timeout_s, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.logger.info("closing a connection that sent no request in %g s", header_timeout_s)
                self.transport.close()

    return HeaderDeadline
