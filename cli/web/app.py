"""The web app: routes, background resumes, and a clear page for every refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import Scope

from kevolve.graph.review_queue import RunUnreadable

from . import render, routes
from .jobs import ResumeJobs
from .limits import RequestLimits
from .responses import error_page
from .settings import ServeSettings

SHUTDOWN_WAIT_S = 60.0  # for searches asked to stop after their round in flight
# The pages run no script and load nothing: forbidding both leaves an injected tag inert, and refusing
# to be framed stops another site from overlaying our Approve button with its own (clickjacking).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # A page holds a form token and a run's evidence: no cache keeps it (a shared proxy, the back button after
    # a decision), and a link followed from it does not send its address to another site.
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # not no-referrer: with it a browser posts our own form as `Origin: null`
}


def create_app(settings: ServeSettings) -> FastAPI:
    jobs = ResumeJobs(library=settings.library, open_services=settings.open_services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        # A stopped search waits for a person again, so nothing a resumed run learned is lost.
        app.state.still_running = jobs.stop_all(SHUTDOWN_WAIT_S)

    app = FastAPI(title="kevolve review", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.jobs = jobs
    app.state.templates = render.templates()
    app.state.still_running = []
    if settings.allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.include_router(routes.router)
    # Added last, so run first: the limits before the host check and the routes, the headers on every answer.
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes,
                       body_timeout_s=settings.body_timeout_s, refuse=_refusal)
    app.middleware("http")(_security_headers)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_form)
    app.add_exception_handler(RunUnreadable, _unreadable_run)
    return app


async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    return response


async def _http_error(request: Request, exc: HTTPException) -> HTMLResponse:
    return error_page(request, exc.status_code, str(exc.detail), headers=exc.headers)


def _refusal(scope: Scope, status_code: int, message: str) -> Response:
    return error_page(Request(scope), status_code, message)


async def _unreadable_run(request: Request, exc: RunUnreadable) -> HTMLResponse:
    return error_page(request, 409, f"{exc}; nothing was changed. The queue lists it among the runs that "
                                    "cannot be read.")


async def _invalid_form(request: Request, exc: RequestValidationError) -> HTMLResponse:
    details = [f"{'.'.join(str(part) for part in error['loc'][1:])}: {error['msg']}" for error in exc.errors()]
    return error_page(request, 422, "The form was not filled in as the page asks; nothing was changed.",
                      details=details)
