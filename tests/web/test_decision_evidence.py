"""A decision made on the page names its evidence (review id, node, the source's sha256, as hidden fields), and the
library gets exactly the source the page showed: its file hashes to the hash printed on the page. When what
waits is no longer what the page showed, the decision is refused with a 409 and nothing is written."""

from __future__ import annotations

import hashlib
import json
import re

from checkpoint_edits import edit_request
from kevolve.graph import review_queue
from kevolve.graph.run_directory import list_runs
from web_helpers import form_of, still_waiting


def _shown_hash(page: str) -> str:
    found = re.search(r'<code id="source-sha256">([0-9a-f]{64})</code>', page)
    assert found, "the page shows no source hash"
    return found.group(1)


def test_the_library_file_hashes_to_the_hash_the_page_showed(make_client, home, review_id):
    client = make_client()
    page = client.get(f"/kernels/{review_id}").text
    shown = _shown_hash(page)
    form = form_of(page, action="approve")
    assert (form["review_id"], form["node_id"], form["source_sha256"]) == (review_id, review_id.split(":")[1], shown)
    assert client.post(f"/kernels/{review_id}/decision", data=form).status_code == 303
    assert client.app.state.jobs.wait(timeout=300)
    [kernel] = (home / "library").glob("*/*/*.py")
    assert hashlib.sha256(kernel.read_bytes()).hexdigest() == shown
    assert json.loads(kernel.with_suffix(".json").read_text())["source_sha256"] == shown
    [recorded] = review_queue.decisions(list_runs(home / "runs")[0]).values()
    assert recorded.decision.source_sha256 == shown and recorded.decision.review_id == review_id


def test_a_decision_on_a_page_that_no_longer_shows_what_waits_is_a_409(make_client, home, review_id):
    client = make_client()
    page = client.get(f"/kernels/{review_id}").text  # loaded, then the waiting request changes under it
    [run] = list_runs(home / "runs")
    edit_request(run.path, lambda request: request.update(source=request["source"] + "\n# changed since\n"))
    refused = client.post(f"/kernels/{review_id}/decision", data=form_of(page, action="approve"))
    assert refused.status_code == 409
    text = " ".join(refused.text.split())
    assert "the decision is not on the kernel that waits" in text and "nothing was written" in text
    assert still_waiting(home, review_id) and not (home / "library").exists()
    assert not review_queue.decisions(run)


def test_a_form_without_its_evidence_is_refused_and_changes_nothing(make_client, home, review_id):
    client = make_client()
    form = form_of(client.get(f"/kernels/{review_id}").text, action="approve")
    for field in ("review_id", "node_id", "source_sha256"):
        refused = client.post(f"/kernels/{review_id}/decision", data={k: v for k, v in form.items() if k != field})
        assert refused.status_code == 409 and "the decision is not on the kernel that waits" in refused.text
    assert still_waiting(home, review_id) and not (home / "library").exists()
