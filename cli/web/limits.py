"""Bounds on every request's body, enforced before anything reads it: its size and how long it may take to arrive.

A pure ASGI middleware, so that it sits between the server and the form parser: a declared length over the
limit is refused before the body is read at all, and a body streamed without one is counted as it arrives
and refused the moment it passes the limit, so no multipart part is ever spooled to disk past it. A client
that sends its body slowly, to hold a connection open, is refused when the body deadline passes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Builds the refusal page for a request refused before the app saw it.
Refusal = Callable[[Scope, int, str], Response]
# A refused body is not read to its end, so the connection cannot carry another request: say so, and the
# server closes it instead of waiting for the rest.
CLOSE = {"Connection": "close"}


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout_s: float, refuse: Refusal) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            response = self.refuse(scope, 413, self._too_large())
            response.headers.update(CLOSE)
            await response(scope, receive, send)
            return
        await self.app(scope, self._bounded(receive), send)

    def _bounded(self, receive: Receive) -> Receive:
        """`receive` that counts the body and holds it to the deadline; refusals raise HTTPException, which the
        app turns into its error page (FastAPI re-raises one met while parsing a form)."""
        deadline = time.monotonic() + self.body_timeout_s
        received = 0
        body_done = False

        async def bounded_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # from here on the app only listens for a disconnect: no deadline applies
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                raise HTTPException(408, f"the request's body did not arrive within {self.body_timeout_s:g} s; "
                                         "nothing was changed", CLOSE) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._too_large(), CLOSE)
            return message

        return bounded_receive

    def _too_large(self) -> str:
        return (f"the request's body is larger than this server takes ({self.max_body_bytes} bytes: a decision "
                "form is far smaller); nothing was changed")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed length before we see it
    return None
