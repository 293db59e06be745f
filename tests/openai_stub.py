"""A scripted OpenAI-compatible server on 127.0.0.1 for tests of the real ChatOpenAI path."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class ScriptedServer:
    """Answers POST /v1/chat/completions with `script` in order, then with `then` for ever."""

    url: str = ""
    script: list[Response] = field(default_factory=list)
    then: Response | None = None
    # After the script: answers computed from each request (e.g. by the tool it asks for), if set.
    responder: Callable[[dict], Response] | None = None
    requests: list[dict] = field(default_factory=list)

    def next_response(self, request: dict) -> Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)
        response = self.responder(request) if self.responder is not None else self.then
        assert response is not None, "the server's script ran out"
        return response


def tool_reply(arguments: str, *, usage: tuple[int, int] = (100, 10), name: str = "Plan") -> Response:
    call = {"id": f"call_{usage[0]}", "type": "function", "function": {"name": name, "arguments": arguments}}
    return _completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls", usage)


def text_reply(content: str, *, usage: tuple[int, int] = (100, 10)) -> Response:
    return _completion({"role": "assistant", "content": content}, "stop", usage)


def _completion(message: dict, finish_reason: str, usage: tuple[int, int]) -> Response:
    return Response(200, {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    })


def error_reply(status: int, message: str, **headers: str) -> Response:
    return Response(status, {"error": {"message": message, "type": "server_error", "code": None}}, headers)


@contextmanager
def serve(scripted: ScriptedServer) -> Iterator[ScriptedServer]:
    """Serves `scripted` on a free port of 127.0.0.1 until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            response = scripted.next_response(request) if self.path == "/v1/chat/completions" \
                else error_reply(404, f"no route {self.path}")
            time.sleep(response.delay_s)
            data = json.dumps(response.body).encode()
            try:
                self.send_response(response.status)
                for name, value in {"Content-Type": "application/json", **response.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up: what the timeout test wants

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scripted.url = f"http://127.0.0.1:{http.server_address[1]}/v1"
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield scripted
    http.shutdown()
    http.server_close()


