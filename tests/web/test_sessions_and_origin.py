"""A decision form is worth something only in the browser session it was served to, and only when posted from
this server's own page: a token copied into another session, or a post from another site, is refused."""

from __future__ import annotations

import pytest

from web_helpers import form_of, still_waiting


def test_a_form_token_from_another_session_is_refused(make_client, home, review_id):
    mine, theirs = make_client(), make_client()  # two browsers: two cookie jars
    form = form_of(mine.get(f"/kernels/{review_id}").text, action="approve")
    theirs.get("/")  # a session of its own, with a valid cookie
    refused = theirs.post(f"/kernels/{review_id}/decision", data=form)
    assert refused.status_code == 403 and "this browser session" in refused.text
    mine.cookies.clear()  # the page's own browser, its cookie gone
    refused = mine.post(f"/kernels/{review_id}/decision", data=form)
    assert refused.status_code == 403
    assert still_waiting(home, review_id)


@pytest.mark.parametrize("sender", [{"Origin": "http://attacker.example"}, {"Origin": "null"},
                                    {"Referer": "http://attacker.example/page"}])
def test_a_post_from_another_origin_is_refused_before_anything_else(make_client, home, review_id, sender):
    client = make_client()
    form = form_of(client.get(f"/kernels/{review_id}").text, action="approve")  # a valid token and session
    refused = client.post(f"/kernels/{review_id}/decision", data=form, headers=sender)
    assert refused.status_code == 403 and "posted from another site" in refused.text
    assert still_waiting(home, review_id)


def test_a_post_from_the_page_itself_passes_the_origin_check(make_client, review_id):
    client = make_client()
    page = client.get(f"/kernels/{review_id}").text
    accepted = client.post(f"/kernels/{review_id}/decision", data=form_of(page, action="approve"),
                           headers={"Origin": "http://testserver", "Referer": f"http://testserver/kernels/{review_id}"})
    assert accepted.status_code == 303
    assert client.app.state.jobs.wait(timeout=300)
