"""The local model's vectors, and the OpenAI-compatible client against a real HTTP server on loopback."""

import json
import math
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from kevolve.tools.knowledge.embeddings import OpenAICompatibleEmbeddings


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_local_minilm_gives_unit_vectors_that_place_meaning_together(embedder):
    softmax, exp_norm, bank = embedder.embed(["numerically stable softmax over a row",
                                              "normalising exponentials without overflow",
                                              "shared memory bank conflicts"])
    assert len(softmax) == embedder.dimensions == 384
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-5) for v in (softmax, exp_norm, bank))
    assert _cosine(softmax, exp_norm) > _cosine(softmax, bank) + 0.1
    assert embedder.embed([]) == []


class _FakeEmbeddingsServer(BaseHTTPRequestHandler):
    """Answers /v1/embeddings with un-normalised vectors in reverse order, as a server is allowed to."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        data = [{"index": i, "embedding": [2.0 * len(text), 2.0]} for i, text in enumerate(body["input"])]
        payload = json.dumps({"data": data[::-1], "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:  # keeps pytest's output clean
        pass


@pytest.fixture
def embeddings_server() -> Iterator[str]:
    _FakeEmbeddingsServer.requests = []
    server = HTTPServer(("127.0.0.1", 0), _FakeEmbeddingsServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_openai_compatible_batches_keeps_order_and_normalises(embeddings_server):
    client = OpenAICompatibleEmbeddings(base_url=embeddings_server, model="m", api_key="k", batch_size=2)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    vectors = client.embed(texts)
    client.close()
    assert [round(x / y) for x, y in vectors] == [1, 2, 3, 4, 5]  # each text's own vector, in input order
    assert all(math.isclose(x * x + y * y, 1.0) for x, y in vectors)
    requests = _FakeEmbeddingsServer.requests
    assert [r["input"] for r in requests] == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert {(r["path"], r["auth"], r["model"]) for r in requests} == {("/v1/embeddings", "Bearer k", "m")}


def test_openai_compatible_learns_its_width_from_one_embedding(embeddings_server):
    client = OpenAICompatibleEmbeddings(base_url=embeddings_server, model="m")
    assert client.dimensions == 2
    assert client.name == "m"
    assert _FakeEmbeddingsServer.requests[0]["auth"] is None
    client.close()


def test_loading_the_local_model_draws_no_progress_bar():
    """The bar would land in the middle of a command's output (kb search, optimize)."""
    script = ("from kevolve.tools.knowledge.embeddings import LocalMiniLM\n"
              "print(len(LocalMiniLM().embed(['shared memory banks'])[0]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "384", done.stderr
    assert "Loading weights" not in done.stderr and "it/s" not in done.stderr, done.stderr
