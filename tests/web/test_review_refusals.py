"""Every bad request to the review pages gets a clear page and status code, and nothing changes: an unknown
kernel, a stale or concurrent decision, a missing token, a cross-site post, a malformed form, a foreign host."""

from __future__ import annotations

import json

import pytest

from kevolve import serve_command
from kevolve.graph import review_queue
from kevolve.graph.approval import ApprovalDecision
from kevolve.options import UsageError
from kevolve.run_options import open_run_services
from kevolve.web.security import LOOPBACK_HOSTS, is_loopback
from web_helpers import form_of, serve_args, still_waiting


def test_an_unknown_kernel_is_a_404_page(make_client, review_id):
    client = make_client()
    for path in ("/kernels/no-such-run:cpu-r01-0", f"/kernels/{review_id.split(':')[0]}:cpu-r99-9"):
        page = client.get(path)
        assert page.status_code == 404 and "404 · Not found" in page.text
    posted = client.post("/kernels/no-such-run:cpu-r01-0/decision", data={"action": "approve", "reviewer": "x"})
    assert posted.status_code == 404


def test_a_decision_made_elsewhere_first_is_a_409_and_changes_nothing(make_client, home, review_id, baseline_cache):
    client = make_client()
    page = client.get(f"/kernels/{review_id}").text  # loaded before the command line decides
    args = serve_args(home, baseline_cache)
    [(run, request)] = review_queue.waiting(home / "runs")
    with review_queue.claim(run, review_id) as claimed:
        review_queue.decide(claimed, ApprovalDecision.on(request, approved=True, reviewer="grace"),
                            open_services=lambda task: open_run_services(task, args), library=home / "library")
    stale = client.post(f"/kernels/{review_id}/decision", data=form_of(page, action="reject", comment="no"))
    assert stale.status_code == 409 and "already approved by grace" in stale.text
    [record] = (home / "library").glob("*/*/*.json")
    assert json.loads(record.read_text())["approved_by"] == "grace"
    assert len(review_queue.decisions(run)) == 1


def test_a_decision_in_progress_elsewhere_is_a_409_and_hides_the_kernel(make_client, home, review_id):
    client = make_client()
    page = client.get(f"/kernels/{review_id}").text
    [(run, _)] = review_queue.waiting(home / "runs")
    with review_queue.claim(run, review_id):  # as `kevolve review approve` holds it while the run goes on
        assert "Nothing waits for approval" in client.get("/").text
        assert "being carried out elsewhere" in client.get(f"/kernels/{review_id}").text
        busy = client.post(f"/kernels/{review_id}/decision", data=form_of(page, action="approve"))
        assert busy.status_code == 409 and "being carried out elsewhere" in busy.text
    assert still_waiting(home, review_id)


def test_a_configured_token_is_required_for_decisions_only(make_client, home, review_id):
    client = make_client(token="s3cret")
    page = client.get(f"/kernels/{review_id}")
    assert page.status_code == 200 and 'name="token"' in page.text  # reading needs no token
    for token in ({}, {"token": "wrong"}):
        refused = client.post(f"/kernels/{review_id}/decision", data=form_of(page.text, action="approve", **token))
        assert refused.status_code == 401 and "access token" in refused.text
    assert still_waiting(home, review_id)
    accepted = client.post(f"/kernels/{review_id}/decision", data=form_of(page.text, action="approve"),
                           headers={"Authorization": "Bearer s3cret"})
    assert accepted.status_code == 303
    assert client.app.state.jobs.wait(timeout=300)


def test_a_cross_site_post_is_refused(make_client, home, review_id):
    forged = {"form_token": "0" * 64, "action": "approve", "reviewer": "mallory"}
    refused = make_client().post(f"/kernels/{review_id}/decision", data=forged)
    assert refused.status_code == 403 and "did not come from this server" in refused.text
    assert still_waiting(home, review_id)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "maybe"}, "action"),
        ({"action": "reject", "comment": "  "}, "a rejection needs a comment"),
        ({"action": "approve", "reviewer": "   "}, "say who decides"),
        ({"action": "approve", "reviewer": ""}, "reviewer: Field required"),
        ({"action": "approve", "comment": "x" * 5000}, "comment"),
    ],
)
def test_a_malformed_form_is_a_422_page_and_changes_nothing(make_client, home, review_id, fields, message):
    client = make_client()
    form = form_of(client.get(f"/kernels/{review_id}").text, **fields)
    refused = client.post(f"/kernels/{review_id}/decision", data=form)
    assert refused.status_code == 422 and message in refused.text and "nothing was changed" in refused.text
    assert still_waiting(home, review_id)
    assert not (home / "library").exists()


def test_pages_cannot_be_framed_or_run_scripts(make_client, review_id):
    headers = make_client().get(f"/kernels/{review_id}").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"


def test_a_foreign_host_header_is_refused_on_loopback(make_client):
    # What a DNS-rebinding page would send: its own name, resolved to 127.0.0.1.
    assert make_client(allowed_hosts=LOOPBACK_HOSTS, base_url="http://attacker.example").get("/").status_code == 400
    assert make_client(allowed_hosts=LOOPBACK_HOSTS, base_url="http://127.0.0.1:8000").get("/").status_code == 200


def test_a_non_loopback_bind_without_a_token_is_refused(home, baseline_cache, monkeypatch):
    monkeypatch.delenv(serve_command.TOKEN_VARIABLE, raising=False)
    with pytest.raises(UsageError, match=r"refusing to serve on 0\.0\.0\.0 without an access token"):
        serve_command.run(serve_args(home, baseline_cache, "--host", "0.0.0.0"))
    assert [is_loopback(host) for host in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "example.org")] == [
        True, True, True, False, False]
