"""`kevolve llm check` against a real server and model: llama-cpp-python's server with SmolLM2-135M-Instruct.

The server is started by the `real_model` fixture (conftest.py here). The expectations are what was measured here
(llama-cpp-python 0.3.36, SmolLM2-135M-Instruct Q4_1, temperature 0): the server refuses a
json_schema response format and constrains forced tool calls by grammar, which is what decides those
two; JSON mode and the fenced block are left to the model, which echoes the schema back instead of
filling it. Each reported result is then checked against a call of the kind a run makes.
"""

import json
import os
import subprocess
import sys

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from kevolve.tools.candidates import Role
from kevolve.tools.llm.base import LLMUnavailable
from kevolve.tools.llm.openai_client import chat_openai
from kevolve.tools.llm.settings import LLMSettings, StructuredMethod
from kevolve.tools.llm.structured_chat import ChatModelLLM

MEASURED = {"json_schema": False, "function_calling": True, "json_mode": False, "fenced_json": False}

pytestmark = [pytest.mark.real_model]


class Colour(BaseModel):
    name: str = Field(description="the colour you were asked to name")


@pytest.fixture(scope="module")
def report(tmp_path_factory, real_model) -> dict:
    home = tmp_path_factory.mktemp("home")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KEVOLVE_LLM_")} | {"HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-m", "kevolve", "llm", "check", "--base-url", real_model.url, "--model", real_model.model,
         "--json", "--no-cache"],
        cwd=home, env=environ | {"KEVOLVE_LLM_STRUCTURED_OUTPUT": "auto"}, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
    [checked] = json.loads(result.stdout)
    return checked


def test_the_reported_table_is_the_measured_one(report):
    assert {method: result["works"] for method, result in report["structured"].items()} == MEASURED, \
        json.dumps(report["structured"], indent=1)
    assert report["text"]["works"] and report["streaming"]["works"] and report["usable"]
    assert report["method"] == "function_calling"
    assert "HTTP 500" in report["structured"]["json_schema"]["error"]
    assert "response_format" in report["structured"]["json_schema"]["error"]
    assert report["latency_s"] > 0 and report["tokens_per_s"] > 0


def test_the_report_is_consistent(report):
    working = [method for method, result in report["structured"].items() if result["works"]]
    assert report["method"] == working[0]  # the best that works, in the preference order of the report
    assert all(result["error"] for result in report["structured"].values() if not result["works"])
    assert report["context_length"] is None or report["context_length"] > 0


@pytest.mark.parametrize("method", [StructuredMethod.FUNCTION_CALLING, StructuredMethod.JSON_SCHEMA])
def test_a_runs_call_agrees_with_the_report(report, method, real_model):
    settings = LLMSettings.model_validate({"model": real_model.model, "base_url": real_model.url, "temperature": 0.0,
                                           "max_retries": 0, "max_output_tokens": 128}).resolved(Role.PLANNER)
    llm = ChatModelLLM(chat_openai(settings), role=Role.PLANNER, model_name=real_model.model, method=method,
                       max_repairs=1, endpoint=real_model.url)
    ask = [HumanMessage('Name the colour "blue".')]
    if report["structured"][method.value]["works"]:
        colour, usage = llm.structured(Colour, ask)
        assert colour.name and usage.output_tokens > 0
    else:
        with pytest.raises(LLMUnavailable) as raised:
            llm.structured(Colour, ask)
        assert raised.value.detail == report["structured"][method.value]["error"]
