"""The review pages over a real waiting run: the queue, the evidence, and approve and reject resuming the run
as `kevolve review` does, in the server's background, stopped cleanly when the server stops."""

from __future__ import annotations

import json

from kevolve.graph import review_queue
from kevolve.graph.run_directory import list_runs
from kevolve.graph.search_tree import StopReason
from waiting_run import FIRST_KERNEL
from web_helpers import REVIEWER, form_of, still_waiting, the_run


def test_queue_lists_the_waiting_kernel(make_client, review_id):
    page = make_client().get("/")
    assert page.status_code == 200
    assert f'href="/kernels/{review_id.replace(":", "%3A")}"' in page.text
    assert "elementwise_gelu_tanh" in page.text and ">cpu<" in page.text
    assert "not measured" in page.text  # beats both baselines: the CPU interpreter times nothing meaningful


def test_kernel_page_shows_the_evidence(make_client, review_id):
    page = make_client().get(f"/kernels/{review_id}")
    assert page.status_code == 200
    text = page.text
    assert '<span class="nc">ModelNew</span>' in text  # the source, highlighted
    assert "Diff against the reference" in text and "tl.program_id" in text
    assert "small_odd" in text and "passed" in text  # correctness trials
    assert text.count("<svg") == 1 and ">candidate</text>" in text and ">eager</text>" in text
    assert "not measured on this device" in text  # no speed-of-light point on the CPU
    assert "timings on this device are not meaningful" in text  # the profile summary
    assert "keep it correct and simple" in text  # the analyst's diagnosis
    assert "none flagged anything" in text
    assert f'value="{REVIEWER}"' in text  # the name field defaults to the server's reviewer
    assert 'precision regime of every figure: <span id="regime">' in text and "(float32, cuDNN TF32" in text


def test_approve_writes_the_library_and_the_run_finishes(make_client, home, review_id):
    client = make_client()
    page = client.get(f"/kernels/{review_id}").text
    answer = client.post(f"/kernels/{review_id}/decision", data=form_of(page, action="approve", comment="fine"))
    assert answer.status_code == 303 and answer.headers["location"].endswith(FIRST_KERNEL)
    assert client.app.state.jobs.wait(timeout=300)
    [record] = (home / "library").glob("*/*/*.json")
    assert json.loads(record.read_text())["approved_by"] == REVIEWER
    with the_run(home) as run:
        assert run.finished() and not run.pending()
    after = client.get(f"/kernels/{review_id}").text
    assert 'data-status="finished"' in after and "Approved</b> by ada" in after
    [recorded] = review_queue.decisions(list_runs(home / "runs")[0]).values()
    assert recorded.decision.reviewer == REVIEWER and recorded.decision.comment == "fine"


def test_reject_resumes_the_run_with_the_comment_as_guidance(make_client, home, review_id):
    client = make_client()
    page = client.get(f"/kernels/{review_id}").text
    comment = "the block is too large for this size: try 256"
    answer = client.post(f"/kernels/{review_id}/decision", data=form_of(page, action="reject", comment=comment))
    assert answer.status_code == 303
    assert client.app.state.jobs.wait(timeout=300)
    with the_run(home) as run:
        assert run.state()["searches"]["cpu"].guidance == [comment]
        [again] = run.pending()  # searched again, and its new best waits
    assert again.node_id != FIRST_KERNEL
    after = client.get(f"/kernels/{review_id}").text
    assert 'data-status="waiting"' in after and f"/kernels/{again.review_id.replace(':', '%3A')}" in after
    assert not list((home / "library").glob("*/*/*.py"))


def test_a_server_shutting_down_stops_a_resumed_search_cleanly(make_client, home, review_id):
    client = make_client()
    page = client.get(f"/kernels/{review_id}").text
    answer = client.post(f"/kernels/{review_id}/decision", data=form_of(page, action="reject", comment="again"))
    assert answer.status_code == 303
    client.__exit__(None, None, None)  # the server's shutdown, while the rejected kernel's search goes on
    assert client.app.state.still_running == []
    with the_run(home) as run:
        assert run.state()["searches"]["cpu"].stop is StopReason.STOPPED_BY_USER
        assert run.pending()  # its best so far waits for a person: nothing the resumed search learned is lost


def test_a_resume_that_fails_says_why_and_the_kernel_waits_again(make_client, home, review_id):
    def no_workers(task):
        raise OSError("no evaluation worker can start here")

    client = make_client(open_services=no_workers)
    page = client.get(f"/kernels/{review_id}").text
    assert client.post(f"/kernels/{review_id}/decision", data=form_of(page, action="approve")).status_code == 303
    assert client.app.state.jobs.wait(timeout=60)
    again = client.get(f"/kernels/{review_id}").text
    assert "no evaluation worker can start here" in again and 'name="form_token"' in again
    assert still_waiting(home, review_id)
    assert "(its resume failed)" in client.get("/").text
