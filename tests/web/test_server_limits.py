"""A hostile client costs the review server little: bodies are bounded before anything reads or spools them,
slow headers and slow bodies are cut off, and pages carry the headers that keep them out of caches and
other sites' hands. The server is the real one (`kevolve serve`'s uvicorn and protocol) on a local port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette import formparsers

from kevolve.web.app import create_app
from kevolve.web.server import server
from kevolve.web.settings import ServeSettings
from local_ports import free_port

LIMIT = 64 * 1024
SLOW_S = 0.5  # the header and body deadlines these tests give the server
DECISION = "/kernels/some-run:cpu-r01-0/decision"


def _settings(tmp_path: Path) -> ServeSettings:
    def no_services(task: object) -> None:
        raise AssertionError("no request in these tests may resume a run")

    return ServeSettings(runs_dir=tmp_path / "runs", library=tmp_path / "library", open_services=no_services,
                         max_body_bytes=LIMIT, header_timeout_s=SLOW_S, body_timeout_s=SLOW_S)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """The port of a running server, stopped after the test."""
    settings = _settings(tmp_path)
    port = free_port()
    running = server(create_app(settings), settings, host="127.0.0.1", port=port, log_level="warning")
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield port
    running.should_exit = True
    thread.join(10)


@pytest.fixture
def spooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The bytes written to each file the multipart parser spools a part into."""
    sizes: list[int] = []

    class Recorded(formparsers.SpooledTemporaryFile):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            sizes.append(0)
            self._index = len(sizes) - 1

        def write(self, data: bytes) -> int:
            sizes[self._index] += len(data)
            return super().write(data)

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", Recorded)
    return sizes


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset, after we wrote to a closed one,
    ends it too)."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def _multipart_head(length: str) -> bytes:
    return (f"POST {DECISION} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary=XX\r\n{length}\r\n\r\n").encode()


def test_a_declared_2_gib_upload_is_refused_before_a_byte_of_it_is_read(served, spooled):
    with _connect(served) as connection:
        connection.sendall(_multipart_head("Content-Length: 2147483648"))  # headers only: no body follows
        answer = _answer(connection)
    assert answer.startswith(b"HTTP/1.1 413") and b"larger than this server takes" in answer
    assert spooled == []


def test_a_streamed_upload_is_cut_at_the_limit_before_anything_is_spooled_to_disk(served, spooled):
    part = (b"--XX\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"big.bin\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n")
    chunk = b"x" * (16 * 1024)
    with _connect(served) as connection:
        connection.sendall(_multipart_head("Transfer-Encoding: chunked"))  # no length to refuse it by up front
        try:
            for body in (part, *[chunk] * 8):  # 128 KiB: twice the limit
                connection.sendall(f"{len(body):x}\r\n".encode() + body + b"\r\n")
                time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-stream: the answer is already on its way
        answer = _answer(connection)
    assert answer.startswith(b"HTTP/1.1 413")
    assert sum(spooled) <= LIMIT  # the parser saw no byte past the limit, so nothing rolled over to disk


def test_a_client_that_trickles_its_headers_is_cut_off(served):
    with _connect(served) as connection:
        started = time.monotonic()
        try:
            for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ":
                connection.send(bytes([byte]))  # a byte at a time: each one once reset uvicorn's only timer
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert _answer(connection) == b""  # closed without an answer: there was no request to answer
    assert time.monotonic() - started < SLOW_S + 2.0


def test_a_body_the_page_does_not_read_cannot_hold_the_connection(served):
    with _connect(served) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nabc")
        assert connection.recv(12) == b"HTTP/1.1 200"  # answered; the rest of the body never comes
        started = time.monotonic()
        try:
            for _ in range(40):
                connection.send(b"x")  # each byte once reset uvicorn's keep-alive timer
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        _answer(connection)
    assert time.monotonic() - started < SLOW_S + 2.0


def test_pipelined_requests_on_one_connection_are_all_answered(served):
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    with _connect(served) as connection:
        connection.sendall(request + b"\r\n" + request + b"Connection: close\r\n\r\n")
        answer = _answer(connection)
    assert answer.count(b"HTTP/1.1 200") == 2


def test_a_client_that_never_sends_its_body_gets_408(served):
    with _connect(served) as connection:
        connection.sendall(f"POST {DECISION} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/"
                           "x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\naction=app".encode())
        started = time.monotonic()
        answer = _answer(connection)
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within" in answer
    assert time.monotonic() - started < SLOW_S + 2.0


def test_pages_are_not_cached_leak_no_address_and_start_a_strict_session(tmp_path):
    with TestClient(create_app(_settings(tmp_path))) as client:
        page = client.get("/")
        refused = client.post(DECISION, content=b"x" * (LIMIT + 1))
    assert page.status_code == 200 and refused.status_code == 413
    for response in (page, refused):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "same-origin"
    cookie = page.headers["set-cookie"].lower()
    assert cookie.startswith("kevolve_session=") and "httponly" in cookie and "samesite=strict" in cookie
