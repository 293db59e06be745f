"""A whole run through the production model path: ChatOpenAI over HTTP to a scripted server on
127.0.0.1 that first answers 429, then a malformed plan, then good replies for every role."""

from __future__ import annotations

import itertools
import json

from kevolve.graph.runner import OptimizationRun
from kevolve.graph.search_tree import ApprovalState, StopReason
from kevolve.tools.llm.openai_chat import OpenAIProvider
from kevolve.tools.llm.settings import LLMSettings
from loop_helpers import cpu_services, gelu_task
from openai_stub import ScriptedServer, error_reply, role_aware, serve, tool_reply


def test_a_run_recovers_from_a_rate_limit_and_a_malformed_reply_and_finishes(tmp_path):
    scripted = ScriptedServer(
        script=[
            error_reply(429, "slow down", **{"Retry-After": "0"}),
            tool_reply('{"plans": [{"operator": "draft", "strat', name="PlannerReply"),  # cut off: not JSON
        ],
        responder=role_aware(itertools.count(256, 256)),
    )
    with serve(scripted) as server:
        settings = LLMSettings.model_validate({"model": "test-model", "base_url": server.url, "timeout_s": 5.0,
                                               "max_retries": 2, "max_repairs": 2})
        services = cpu_services(tmp_path / "cache", llm=OpenAIProvider(settings))
        task = gelu_task(patience=1, max_rounds=4, auto_approve=True)
        with services.pool, OptimizationRun.start(tmp_path / "runs", task, services,
                                                  library=tmp_path / "lib") as run:
            run.go()
            assert run.finished()
            state = run.state()
    search = state["searches"]["cpu"]
    assert search.stop is StopReason.PLATEAU
    assert search.approval is ApprovalState.AUTO_APPROVED and list((tmp_path / "lib").glob("*/*/*.py"))
    assert all(node.accepted for node in search.nodes.values())
    # The 429 was retried by the client; the malformed plan was re-asked with its parse error.
    repair = scripted.requests[2]
    assert "could not be parsed" in json.dumps(repair["messages"])
    # Every role went through the server, and the usage the server reported was counted.
    asked = {tool["function"]["name"] for request in scripted.requests for tool in request.get("tools", [])}
    assert {"PlannerReply", "ReviewVerdict", "Diagnosis"} <= asked
    assert state["usage"].calls >= len(scripted.requests) - 1 and state["usage"].total_tokens > 0
