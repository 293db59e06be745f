"""The pages: the queue, a kernel's evidence, and the decision a person posts from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException

from kevolve.graph import review_queue
from kevolve.graph.approval import ApprovalDecision, ApprovalRequest, EvidenceMismatch
from kevolve.graph.folders import run_library
from kevolve.graph.review_queue import RunStatus, RunUnreadable
from kevolve.graph.run_directory import RunDirectory
from kevolve.graph.runner import NothingToDecide
from kevolve.tools.safe_names import UnsafeName

from .jobs import ResumeJob, ResumeJobs
from .render import reference_diff
from .responses import page
from .security import access_token_ok, form_token, form_token_ok, same_origin
from .sessions import page_session, session_of
from .settings import ServeSettings


def refuse_cross_origin(request: Request) -> None:
    """Every request that could change anything must come from one of our pages: its Origin says where."""
    if request.method in ("GET", "HEAD"):
        return
    host, origin, referer = (request.headers.get(name) for name in ("host", "origin", "referer"))
    if not same_origin(host, origin, referer):
        sender = f"Origin {origin}" if origin is not None else f"Referer {referer}"
        raise HTTPException(403, f"the form was posted from another site ({sender}), not from this server's page; "
                                 "nothing was changed")


router = APIRouter(dependencies=[Depends(refuse_cross_origin)])

MAX_REVIEWER, MAX_COMMENT = 100, 4000
MAX_NAME = 500  # a review id: run id, ':', node id (each a safe name, at most 200 characters)


@dataclass(frozen=True)
class KernelView:
    run: RunDirectory
    request: ApprovalRequest
    decision: ApprovalDecision | None  # None while it waits
    job: ResumeJob | None  # this server carried the decision out
    status: RunStatus
    waiting_next: list[ApprovalRequest]  # what the run waits for after this kernel's decision


def kernel_view(settings: ServeSettings, jobs: ResumeJobs, review_id: str) -> KernelView:
    run = review_queue.run_named(settings.runs_dir, review_id.partition(":")[0])
    if run is None:
        raise HTTPException(404, f"no run holds a kernel {review_id!r} in {settings.runs_dir}")
    job = jobs.get(review_id)
    if job is not None and job.running:
        return KernelView(run, job.claim.request, job.decision, job, RunStatus.RUNNING, [])
    status, pending = review_queue.run_status(run)
    request = next((item for item in pending if item.review_id == review_id), None)
    if request is not None:  # waiting (again, when an earlier resume failed), or being decided elsewhere
        return KernelView(run, request, None, job, status, [])
    if job is not None:
        return KernelView(run, job.claim.request, job.decision, job, status, pending)
    record = review_queue.decisions(run).get(review_id)
    if record is None:
        raise HTTPException(404, f"{review_id!r} is not waiting for a decision and none was recorded for it")
    return KernelView(run, record.request, record.decision, None, status, pending)


@router.get("/", response_class=HTMLResponse)
def queue(request: Request) -> HTMLResponse:
    settings: ServeSettings = request.app.state.settings
    jobs: ResumeJobs = request.app.state.jobs
    found = review_queue.queue(settings.runs_dir)
    decided = [(job, *_status_after(settings, jobs, job)) for job in jobs.recent()]
    return page(request, "queue.html", waiting=[item for _, item in found.waiting], broken=found.broken,
                decided=decided)


def _status_after(settings: ServeSettings, jobs: ResumeJobs, job: ResumeJob) -> tuple[RunStatus | None, str]:
    """The status of a run decided here, or None and why it can no longer be read (its folder changed since)."""
    try:
        return kernel_view(settings, jobs, job.claim.request.review_id).status, ""
    except RunUnreadable as exc:
        return None, exc.reason
    except HTTPException as exc:  # its folder is gone
        return None, str(exc.detail)


@router.get("/kernels/{review_id}", response_class=HTMLResponse)
def kernel(request: Request, review_id: str) -> HTMLResponse:
    settings: ServeSettings = request.app.state.settings
    view = kernel_view(settings, request.app.state.jobs, review_id)
    second_diff, diff_note = reference_diff(view.run, view.request)
    return page(request, "kernel.html", view=view, item=view.request, second_diff=second_diff,
                diff_note=diff_note, form_token=form_token(settings.secret, page_session(request), review_id),
                reviewer=settings.default_reviewer)


@router.post("/kernels/{review_id}/decision")
def decide(
    request: Request,
    review_id: str,
    action: Annotated[Literal["approve", "reject"], Form()],
    reviewer: Annotated[str, Form(max_length=MAX_REVIEWER)],
    comment: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
    # The evidence the page was rendered with (hidden fields): the decision names exactly that kernel. Missing,
    # it names none, and is refused with the 409 any other mismatch gets (after the 404 for an unknown id).
    shown_review_id: Annotated[str, Form(alias="review_id", max_length=MAX_NAME)] = "",
    node_id: Annotated[str, Form(max_length=MAX_NAME)] = "",
    source_sha256: Annotated[str, Form(max_length=64)] = "",
    form_token: Annotated[str, Form()] = "",
    token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    settings: ServeSettings = request.app.state.settings
    jobs: ResumeJobs = request.app.state.jobs
    view = kernel_view(settings, jobs, review_id)  # 404 before anything else: the id is the first thing to fix
    presented = token or request.headers.get("authorization", "").removeprefix("Bearer ").strip() or None
    if not access_token_ok(settings.token, presented):
        raise HTTPException(401, "this server needs its access token for decisions (the token field, or an "
                                 "Authorization: Bearer header); nothing was changed", {"WWW-Authenticate": "Bearer"})
    if not form_token_ok(settings.secret, session_of(request), review_id, form_token):
        raise HTTPException(403, "the form did not come from this server's page in this browser session (or the "
                                 "server was restarted since it was loaded): reload the kernel's page; nothing was "
                                 "changed")
    if not reviewer.strip():
        raise HTTPException(422, "say who decides: the name field is empty; nothing was changed")
    if action == "reject" and not comment.strip():
        raise HTTPException(422, "a rejection needs a comment: it becomes the search's guidance; nothing was changed")
    if view.decision is not None:
        raise HTTPException(409, _decided(view.decision))
    try:
        claimed = review_queue.claim(view.run, review_id)
    except NothingToDecide as exc:
        record = review_queue.decisions(view.run).get(review_id)
        raise HTTPException(409, _decided(record.decision) if record else f"{exc}; nothing was changed") from None
    decision = ApprovalDecision(approved=action == "approve", reviewer=reviewer.strip(),
                                comment=comment.strip() or None, review_id=shown_review_id, node_id=node_id,
                                source_sha256=source_sha256)
    try:
        review_queue.check(claimed, decision)
        run_library(review_queue.read_task(claimed.run).sources.library, settings.library)  # one kevolve made
    except (EvidenceMismatch, UnsafeName) as exc:
        claimed.release()
        raise HTTPException(409, str(exc)) from None
    jobs.start(claimed, decision)
    return RedirectResponse(f"/kernels/{quote(review_id)}", status_code=303)


def _decided(decision: ApprovalDecision) -> str:
    verb = "approved" if decision.approved else "rejected"
    return (f"already {verb} by {decision.reviewer} at {decision.decided_at:%Y-%m-%d %H:%M:%S %Z}; "
            "nothing was changed")
