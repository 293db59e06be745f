"""The real-model fixture's watch on its server, against fake servers that die: no test waits on a dead port."""

from __future__ import annotations

import sys
import textwrap
import time

import pytest

from local_ports import free_port
from model_server import ServerProcess

# Answers /v1/models, then faults (exit 139, as a segfault does) on the first completion, as a native
# llama.cpp build does on a CPU whose AMX the virtual machine does not provide.
_DIES_ON_FIRST_COMPLETION = textwrap.dedent("""
    import os, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(b'{"data": []}')
        def do_POST(self):
            print("ggml_backend_amx_mul_mat: fault", flush=True)
            os._exit(139)

    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
""")


def _server(tmp_path, command: list[str]) -> ServerProcess:
    port = free_port()
    return ServerProcess([part.replace("PORT", str(port)) for part in command], url=f"http://127.0.0.1:{port}/v1",
                         log=tmp_path / "server.log")


def test_a_server_that_exits_at_start_fails_with_its_log(tmp_path):
    server = _server(tmp_path, [sys.executable, "-c", "print('no model file'); raise SystemExit(3)"])
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match=r"exited with 3 while starting(.|\n)*no model file"):
        server.wait_until_serving(startup_s=60)
    assert time.monotonic() - started < 30


def test_a_server_that_dies_on_its_first_completion_fails_with_its_log(tmp_path):
    server = _server(tmp_path, [sys.executable, "-c", _DIES_ON_FIRST_COMPLETION, "PORT"])
    try:
        server.wait_until_serving(startup_s=60)
        with pytest.raises(pytest.fail.Exception, match=r"exited with 139 on its first completion(.|\n)*amx"):
            server.first_completion("fake", timeout_s=30)
    finally:
        server.stop()
