"""A scripted OpenAI-compatible server on 127.0.0.1 for tests of the real ChatOpenAI path.

It streams (as server-sent events) any completion a request asks to stream, answers GET routes
from a table, counts the requests in flight, and can be served again on the port it had, so a test
can stop it and bring it back as a restarted server would. A response can also misbehave as real
servers were seen to: a body that is not JSON, a plain body to a streaming request, a reply that
trickles a byte at a time and never ends.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kevolve.tools.llm.capabilities import PROBE_NUMBER, PROBE_WORD
from loop_helpers import gelu_kernel


@dataclass
class Response:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None  # sent as the body instead of `body`: e.g. an HTML page with status 200
    streams: bool = True  # False: a streaming request gets the plain JSON body, not server-sent events
    trickle_s: float | None = None  # a byte of whitespace every trickle_s seconds for ever, after the headers


@dataclass
class ScriptedServer:
    """Answers POST /v1/chat/completions with `script` in order, then with `then` for ever."""

    url: str = ""
    script: list[Response] = field(default_factory=list)
    then: Response | None = None
    # After the script: answers computed from each request (e.g. by the tool it asks for), if set.
    responder: Callable[[dict], Response] | None = None
    requests: list[dict] = field(default_factory=list)
    get_routes: dict[str, Response] = field(default_factory=dict)  # by path, e.g. "/v1/models"
    in_flight: int = 0
    max_in_flight: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock)

    def next_response(self, request: dict) -> Response:
        self.requests.append(request)
        if self.script:
            return self.script.pop(0)
        response = self.responder(request) if self.responder is not None else self.then
        assert response is not None, "the server's script ran out"
        return response

    def started(self) -> None:
        with self._count_lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def finished(self) -> None:
        with self._count_lock:
            self.in_flight -= 1


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


def json_reply(body: dict) -> Response:
    return Response(200, body)


def raw_reply(data: bytes, *, content_type: str = "text/html") -> Response:
    return Response(200, {}, {"Content-Type": content_type}, raw=data)


def trickling_reply(every_s: float = 0.05) -> Response:
    """Headers at once, then a byte at a time, never the end: each read succeeds, the reply never completes."""
    return Response(200, {}, trickle_s=every_s)


def _event_stream(body: dict) -> bytes:
    """A completion as the chunks a streaming server sends: one per word, then the finish and [DONE]."""
    choice = body["choices"][0]
    words = (choice["message"].get("content") or "").split(" ")
    deltas = [{"role": "assistant", "content": w if i == 0 else f" {w}"} for i, w in enumerate(words)]
    chunks = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]})
    header = {"id": body["id"], "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
    events = [f"data: {json.dumps(header | chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]
    return "".join(events).encode()


@contextmanager
def serve(scripted: ScriptedServer, *, port: int = 0) -> Iterator[ScriptedServer]:
    """Serves `scripted` on 127.0.0.1 (a free port unless one is given) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(scripted.get_routes.get(self.path) or error_reply(404, f"no route {self.path}"), False)

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            scripted.started()
            try:
                response = scripted.next_response(request) if self.path == "/v1/chat/completions" \
                    else error_reply(404, f"no route {self.path}")
                time.sleep(response.delay_s)
            finally:
                # Counted out before the reply is written: once a client has it, it may send its next request
                # before this thread runs again, and the two would be counted as in flight together.
                scripted.finished()
            self._answer(response, bool(request.get("stream")))

        def _answer(self, response: Response, stream: bool) -> None:
            stream = stream and response.streams and response.status == 200 and "choices" in response.body
            data = _event_stream(response.body) if stream else \
                response.raw if response.raw is not None else json.dumps(response.body).encode()
            content_type = "text/event-stream" if stream else "application/json"
            try:
                self.send_response(response.status)
                for name, value in {"Content-Type": content_type, **response.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data) if response.trickle_s is None else 10**9))
                self.end_headers()
                if response.trickle_s is None:
                    self.wfile.write(data)
                while response.trickle_s is not None and not stopping.is_set():
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(response.trickle_s)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up: what the timeout test wants

        def log_message(self, *args: object) -> None:
            pass

    stopping = threading.Event()  # ends the replies that would trickle for ever
    http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    scripted.url = f"http://127.0.0.1:{http.server_address[1]}/v1"
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield scripted
    finally:
        stopping.set()
        http.shutdown()
        http.server_close()


def llama_cpp_like(answer: dict) -> Callable[[dict], Response]:
    """A responder that does what llama.cpp's Python server did with SmolLM2 (shared/FACTS.md): a forced tool
    call comes back right (the server constrains it by grammar), a json_schema response format is refused
    with HTTP 500, JSON mode returns an object with keys of its own, and plain text is answered; here a
    request for a fenced JSON block gets `answer` in one, and any other text request a count."""

    def respond(request: dict) -> Response:
        response_format = (request.get("response_format") or {}).get("type")
        if response_format == "json_schema":
            return error_reply(500, "response_format type must be text or json_object")
        if request.get("tools"):
            return tool_reply(json.dumps(answer), name=request["tools"][0]["function"]["name"])
        if response_format == "json_object":
            return text_reply(json.dumps({"properties": {key: {"type": "string"} for key in answer}}))
        if "```json" in request["messages"][-1]["content"]:
            return text_reply(f"Here it is:\n```json\n{json.dumps(answer)}\n```")
        return text_reply(" ".join(str(n) for n in range(1, 31)), usage=(20, 30))

    return respond


DIAGNOSIS = {"bottleneck": "not measured on this device", "headroom": "unknown on the CPU",
             "guidance": "try larger blocks", "knowledge_query": "triton elementwise block size"}


def role_aware(blocks: Iterator[int]) -> Callable[[dict], Response]:
    """Answers each request of a GELU run as its role would: by the tool it forces, or with code when there is
    none (a planner asks for blocks from `blocks`); the probe's forced tool call is answered right."""

    def respond(request: dict) -> Response:
        tools = [tool["function"]["name"] for tool in request.get("tools", [])]
        if "PlannerReply" in tools:
            first = "cpu-r01-0" not in json.dumps(request["messages"])
            plan = {"operator": "draft" if first else "improve", "parent_ids": [] if first else ["cpu-r01-0"],
                    "strategy": f"blocks of {next(blocks)}", "description": "one program per block"}
            return tool_reply(json.dumps({"plans": [plan]}), name="PlannerReply")
        if "ProbeReply" in tools:  # `structured_output: auto` probing: the forced tool call works
            return tool_reply(json.dumps({"word": PROBE_WORD, "number": PROBE_NUMBER}), name="ProbeReply")
        if "ReviewVerdict" in tools:
            return tool_reply(json.dumps({"approved": True, "reasons": []}), name="ReviewVerdict")
        if "Diagnosis" in tools:
            return tool_reply(json.dumps(DIAGNOSIS), name="Diagnosis")
        return text_reply(gelu_kernel(block=256 << (len(request["messages"]) % 3)))

    return respond
