"""The browser session a page is served to: a random id in an HttpOnly, SameSite=Strict cookie, sent with the
first page, that the decision form's token is bound to (see security.form_token)."""

from __future__ import annotations

import re
import secrets

from fastapi import Request
from fastapi.responses import Response

SESSION_COOKIE = "kevolve_session"
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) makes


def session_of(request: Request) -> str | None:
    """The session the request's cookie names, or None: no cookie, or a value this server never makes."""
    value = request.cookies.get(SESSION_COOKIE)
    return value if value is not None and _SESSION_ID.fullmatch(value) else None


def page_session(request: Request) -> str:
    """The session a page is rendered for: the cookie's, or a new one that `keep_session` sends back."""
    existing = session_of(request)
    if existing is not None:
        return existing
    if not hasattr(request.state, "new_session"):
        request.state.new_session = secrets.token_urlsafe(32)
    return request.state.new_session


def keep_session(request: Request, response: Response) -> None:
    """Sets the cookie of a session this request started. SameSite=Strict: no other site's page or form
    makes the browser send it; HttpOnly: no script reads it."""
    new = getattr(request.state, "new_session", None)
    if new is not None:
        response.set_cookie(SESSION_COOKIE, new, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
