"""Every page goes out through here: the common frame's values, and one page for every refusal."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from .sessions import keep_session, page_session
from .settings import ServeSettings

TITLES = {400: "Malformed request", 401: "Access token required", 403: "Refused", 404: "Not found",
          405: "Not allowed", 408: "Too slow", 409: "Cannot be decided now", 413: "Request too large",
          422: "Incomplete or invalid form"}


def page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings: ServeSettings = request.app.state.settings
    page_session(request)  # every page starts a session, so the first kernel page's form is bound to one
    html = request.app.state.templates.get_template(template).render(
        runs_dir=settings.runs_dir, token_required=settings.token is not None, **context
    )
    response = HTMLResponse(html, status_code=status_code)
    keep_session(request, response)
    return response


def error_page(request: Request, status_code: int, message: str, *, details: list[str] | None = None,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    response = page(request, "error.html", status_code=status_code, title=TITLES.get(status_code, "Error"),
                    message=message, details=details or [], code=status_code)
    response.headers.update(headers or {})
    return response
