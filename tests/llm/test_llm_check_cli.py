"""`kevolve llm check`: the table, the JSON, the cache, and the exit codes 0 usable, 1 unusable, 2 unreachable.

The exit codes are read from `kevolve` run as a subprocess, the three at once: each pays the CLI's
start-up (it imports torch, 3 to 6 s here), so they are marked slow. The rest runs in-process.
"""

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kevolve import llm_command
from kevolve.tools.llm.capabilities import PROBE_NUMBER, PROBE_WORD
from local_ports import free_port
from openai_stub import (
    ScriptedServer,
    error_reply,
    json_reply,
    llama_cpp_like,
    raw_reply,
    serve,
    text_reply,
    trickling_reply,
)

ANSWER = {"word": PROBE_WORD, "number": PROBE_NUMBER}
MODELS = {"/v1/models": json_reply({"data": [{"id": "test-model", "meta": {"n_ctx_train": 8192}}]})}


def llama_cpp_server() -> ScriptedServer:
    return ScriptedServer(responder=llama_cpp_like(ANSWER), get_routes=dict(MODELS))


def prose_server() -> ScriptedServer:
    """Answers everything in prose, and refuses json_schema: reachable, but no typed reply can be had."""
    return ScriptedServer(responder=lambda request: error_reply(500, "response_format type must be text")
                          if (request.get("response_format") or {}).get("type") == "json_schema"
                          else text_reply("I am a helpful assistant."))


def clean_environment(home: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KEVOLVE_LLM_") and k != "OPENAI_API_KEY"}
    return environ | {"HOME": str(home), "COLUMNS": "160"}


def refused_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


@pytest.fixture(scope="module")
def exits(tmp_path_factory) -> Iterator[dict[str, subprocess.CompletedProcess]]:
    home = tmp_path_factory.mktemp("home")
    with serve(llama_cpp_server()) as usable, serve(prose_server()) as unusable:
        urls = {"usable": usable.url, "unusable": unusable.url, "unreachable": refused_url()}
        running = {name: subprocess.Popen(
            [sys.executable, "-m", "kevolve", "llm", "check", "--base-url", url, "--model", "test-model"],
            cwd=home, env=clean_environment(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, url in urls.items()}
        results = {}
        for name, process in running.items():
            stdout, stderr = process.communicate(timeout=60)
            results[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        yield results


@pytest.mark.slow
def test_a_usable_endpoint_exits_0_with_its_table(exits):
    result = exits["usable"]
    assert result.returncode == 0, result.stderr
    assert "│ structured: function_calling │ works" in result.stdout
    assert "kevolve will use: function_calling (configured)" in result.stdout
    assert "verdict: usable" in result.stdout


@pytest.mark.slow
def test_a_reachable_endpoint_without_typed_replies_exits_1(exits):
    result = exits["unusable"]
    assert result.returncode == 1, result.stderr
    assert "verdict: unusable" in result.stdout and "kevolve will use: function_calling (configured) fails here" \
        in result.stdout


@pytest.mark.slow
def test_an_unreachable_endpoint_exits_2_with_one_clear_line(exits):
    result = exits["unreachable"]
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("unavailable: test-model at http://127.0.0.1:")
    assert "Connection refused" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def check(tmp_path, monkeypatch, capsys):
    """Runs `kevolve llm check ARGS` in-process in an empty folder with no LLM variables set."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("KEVOLVE_LLM_")] + ["OPENAI_API_KEY"]:
        monkeypatch.delenv(name, raising=False)
    parser = argparse.ArgumentParser()
    llm_command.add_arguments(parser.add_subparsers(dest="command").add_parser("llm"))

    def run(*argv: str) -> tuple[int, str, str]:
        args = parser.parse_args(["llm", "check", "--cache-dir", str(tmp_path / "cache"), *argv])
        code = args.run(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def llama_cpp() -> Iterator[ScriptedServer]:
    with serve(llama_cpp_server()) as scripted:
        yield scripted


def test_the_json_report_and_the_cache(check, llama_cpp):
    code, out, _ = check("--base-url", llama_cpp.url, "--model", "test-model", "--json")
    [report] = json.loads(out)
    assert code == 0 and report["method"] == "function_calling" and report["usable"] and not report["cached"]
    assert {m: r["works"] for m, r in report["structured"].items()} == {
        "json_schema": False, "function_calling": True, "json_mode": False, "fenced_json": True}
    assert report["context_length"] == 8192 and report["streaming"]["works"]
    probes = len(llama_cpp.requests)

    code, out, _ = check("--base-url", llama_cpp.url, "--model", "test-model")
    assert code == 0 and len(llama_cpp.requests) == probes
    assert "cached in" in out and "context length: 8192 tokens (GET /v1/models: meta.n_ctx_train)" in out
    check("--base-url", llama_cpp.url, "--model", "test-model", "--no-cache")
    assert len(llama_cpp.requests) == 2 * probes


def test_under_auto_the_method_is_the_best_that_works(check, llama_cpp, monkeypatch):
    monkeypatch.setenv("KEVOLVE_LLM_STRUCTURED_OUTPUT", "auto")
    code, out, _ = check("--base-url", llama_cpp.url, "--model", "test-model")
    assert code == 0 and "kevolve will use: function_calling (structured_output: auto" in out


def test_a_configured_method_that_fails_is_named(check, llama_cpp, monkeypatch):
    monkeypatch.setenv("KEVOLVE_LLM_STRUCTURED_OUTPUT", "json_schema")
    code, out, _ = check("--base-url", llama_cpp.url, "--model", "test-model")
    assert code == 0 and "kevolve will use: json_schema (configured) fails here: set structured_output to auto" in out


def test_every_configured_endpoint_and_model_is_checked(check, llama_cpp, tmp_path):
    (tmp_path / "kevolve.yaml").write_text(
        f"llm:\n  model: test-model\n  base_url: {llama_cpp.url}\n  roles:\n    planner: {{model: other-model}}\n")
    code, out, _ = check("--json")
    assert code == 0 and [report["model"] for report in json.loads(out)] == ["other-model", "test-model"]


def test_no_model_configured_exits_2(check):
    code, out, err = check()
    assert (code, out) == (2, "")
    assert "no model configured: pass --model (and --base-url), set KEVOLVE_LLM_MODEL" in err


def test_a_configured_context_window_is_the_length_printed(check, llama_cpp, monkeypatch):
    monkeypatch.setenv("KEVOLVE_LLM_CONTEXT_WINDOW", "4096")
    code, out, _ = check("--base-url", llama_cpp.url, "--model", "test-model")
    assert code == 0
    assert "context length: 4096 tokens (context_window); the server says 8192 tokens (GET /v1/models" in out
    assert "requests at once: not said by the server" in out
    # The stub answers 30 tokens at once, so a full reply fits any timeout; the line says against which.
    assert "a full reply (2048 tokens) takes about" in out and "within timeout_s=120" in out


def test_a_200_that_is_not_json_exits_2_quoting_the_body_cut_short(check):
    with serve(ScriptedServer(then=raw_reply(b"<html>" + b"Bad gateway. " * 20_000 + b"</html>"))) as page:
        code, out, err = check("--base-url", page.url, "--model", "test-model")
    assert (code, out) == (2, "")
    assert err.startswith("unavailable: test-model at") and "body that is not a chat completion" in err
    assert "<html>Bad gateway." in err and len(err) < 1000 and "Traceback" not in err


def test_a_server_failing_with_500_is_not_remembered_once_it_is_healthy(check, llama_cpp):
    with serve(ScriptedServer(then=error_reply(500, "internal error"))) as failing:
        url = failing.url
        code, _, err = check("--base-url", url, "--model", "test-model")
        assert code == 2 and "HTTP 500: internal error" in err
    with serve(llama_cpp_server(), port=int(url.rsplit(":", 1)[1].split("/")[0])):
        code, out, _ = check("--base-url", url, "--model", "test-model")
    assert code == 0 and "probed now" in out and "verdict: usable" in out


def test_a_reply_that_never_ends_is_given_up_at_timeout_s(check, monkeypatch):
    monkeypatch.setenv("KEVOLVE_LLM_TIMEOUT_S", "0.5")
    monkeypatch.setenv("KEVOLVE_LLM_MAX_RETRIES", "0")
    with serve(ScriptedServer(then=trickling_reply())) as trickling:
        code, _, err = check("--base-url", trickling.url, "--model", "test-model")
    assert code == 2 and "no complete reply within timeout_s=0.5 s" in err and "larger `timeout_s`" in err


def test_a_200_kb_refusal_is_printed_cut_short(check):
    huge = "unsupported " * 20_000
    with serve(ScriptedServer(responder=lambda request: error_reply(400, huge) if request.get("tools")
                              or request.get("response_format") else text_reply("1 2 3"))) as refusing:
        code, out, _ = check("--base-url", refusing.url, "--model", "test-model")
    assert code == 1 and "characters in all" in out and len(out) < 10_000


def test_a_server_too_slow_for_a_full_reply_within_timeout_s_is_told_to_raise_it(check, monkeypatch):
    monkeypatch.setenv("KEVOLVE_LLM_TIMEOUT_S", "5")
    answer = llama_cpp_like(ANSWER)

    def slowly(request: dict):
        response = answer(request)
        response.delay_s = 0.2  # 30 tokens in 0.2 s: 150 tokens/s, so 2048 tokens take about 14 s
        return response

    with serve(ScriptedServer(responder=slowly)) as slow:
        code, out, _ = check("--base-url", slow.url, "--model", "test-model")
    assert code == 0 and "a full reply (2048 tokens) takes about" in out
    assert "over timeout_s=5: raise it (or lower max_output_tokens)" in out
