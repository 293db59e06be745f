"""Each tool called as an agent calls it: arguments as a dict, a result the model can read, errors as text."""

import json
from collections.abc import Iterator, Sequence

import pytest

from harness_helpers import FAST_SETTINGS, TEST_DEVICE, candidate_source
from kevolve.eval_harness import ProblemLoadError
from kevolve.tools.agent_tools import ToolContext, make_agent_tools
from kevolve.tools.evaluation_pool import EvaluationPool
from kevolve.tools.knowledge.base import KnowledgeBase
from kevolve.tools.knowledge.models import EntryKind, KnowledgeStats, Passage, SearchFilters, SearchHit

_PASSAGE = Passage(id="hopper-smem", kind=EntryKind.DOCUMENT, title="Hopper > Shared memory",
                   text="228 KiB of shared memory per SM.", source="hardware_specs/documents/hopper.md#smem",
                   architecture="hopper")


class _RecordingBase(KnowledgeBase):
    """Answers every search with one passage, or with `error`, and keeps what it was asked."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.searches: list[tuple[str, SearchFilters | None, int]] = []

    def search(self, query: str, *, filters: SearchFilters | None = None, limit: int = 5) -> list[SearchHit]:
        self.searches.append((query, filters, limit))
        if self.error is not None:
            raise self.error
        return [SearchHit(passage=_PASSAGE, score=1.0)]

    def add(self, passages: Sequence[Passage]) -> int:
        raise NotImplementedError

    def delete(self, ids: Sequence[str]) -> int:
        raise NotImplementedError

    def passages(self) -> Iterator[Passage]:
        raise NotImplementedError

    def stats(self) -> KnowledgeStats:
        raise NotImplementedError


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    with EvaluationPool(FAST_SETTINGS, cache_dir=tmp_path_factory.mktemp("baselines")) as pool:
        yield pool


def _tools(pool, problems, knowledge=None) -> dict:
    context = ToolContext(pool=pool, problems=problems, knowledge=knowledge, default_device=TEST_DEVICE)
    return {tool.name: tool for tool in make_agent_tools(context)}


def test_evaluate_candidate_returns_the_verdict_as_json(pool, gelu_problem):
    tools = _tools(pool, gelu_problem)
    message = tools["evaluate_candidate"].invoke(
        {"type": "tool_call", "id": "call-1", "name": "evaluate_candidate",
         "args": {"source": candidate_source("correct_triton")}})
    verdict = json.loads(message.content)
    assert verdict["status"] == "correct" and verdict["accepted"] is True
    if TEST_DEVICE == "cpu":
        assert "not meaningful" in verdict["note"] and "speedup_eager" not in verdict


def test_a_bad_source_is_a_verdict_with_its_error(pool, gelu_problem):
    verdict = _tools(pool, gelu_problem)["evaluate_candidate"].invoke({"source": candidate_source("syntax_error")})
    assert verdict["status"] == "error" and verdict["error_kind"] == "syntax_error"
    assert "line 1" in verdict["error_message"]


def test_a_device_that_cannot_serve_is_reported_as_text(pool, gelu_problem):
    text = _tools(pool, gelu_problem)["evaluate_candidate"].invoke(
        {"source": candidate_source("correct_triton"), "device": "cuda:99"})
    assert text.startswith("device 'cuda:99' cannot evaluate candidates") and "not available" in text


def test_problems_are_named_or_fixed(pool, gelu_problem):
    def lookup(name: str):
        raise ProblemLoadError(f"{name}: no such problem file")

    evaluate = _tools(pool, lookup)["evaluate_candidate"]
    assert evaluate.invoke({"source": "x"}) == "name the problem to evaluate against (argument `problem`)"
    assert "no such problem file" in evaluate.invoke({"source": "x", "problem": "softmax"})
    wrong = _tools(pool, gelu_problem)["evaluate_candidate"].invoke({"source": "x", "problem": "softmax"})
    assert wrong == f"this session works on problem {gelu_problem.name!r} only, not 'softmax'"


def test_invalid_arguments_are_reported_as_text(pool, gelu_problem):
    text = _tools(pool, gelu_problem)["retrieve_knowledge"].invoke({"query": "smem", "limit": 0})
    assert text.startswith("invalid arguments: limit:")


def test_profile_candidate_summarises_where_the_time_goes(pool, gelu_problem):
    text = _tools(pool, gelu_problem)["profile_candidate"].invoke({"source": candidate_source("correct_triton")})
    assert text.startswith(f"{gelu_problem.name}: correct")
    assert "minimum traffic" in text and "_gelu_tanh_kernel: x1" in text


def test_profile_candidate_says_when_profiling_is_off(gelu_problem):
    with EvaluationPool(FAST_SETTINGS.model_copy(update={"profile": False})) as quiet:
        text = _tools(quiet, gelu_problem)["profile_candidate"].invoke({"source": candidate_source("correct_triton")})
    assert text.startswith("profiling is off")


def test_retrieve_knowledge_filters_by_the_devices_architecture(pool, gelu_problem):
    base = _RecordingBase()
    text = _tools(pool, gelu_problem, base)["retrieve_knowledge"].invoke(
        {"query": "shared memory size", "device": "h100_sxm", "dsl": "triton", "limit": 3})
    assert "[1] Hopper > Shared memory (source: hardware_specs/documents/hopper.md#smem)" in text
    assert base.searches == [("shared memory size", SearchFilters(architecture="hopper", dsl="triton"), 3)]


def test_retrieve_knowledge_without_a_base_or_with_a_broken_one(pool, gelu_problem):
    assert _tools(pool, gelu_problem)["retrieve_knowledge"].invoke({"query": "x"}) == "no knowledge base configured"
    broken = _tools(pool, gelu_problem, _RecordingBase(OSError("connection refused")))
    text = broken["retrieve_knowledge"].invoke({"query": "x"})
    assert text == "the knowledge base could not be searched: connection refused"


@pytest.mark.parametrize("name", ["h100_sxm", "NVIDIA H100 80GB HBM3"])
def test_lookup_hardware_by_spec_or_gpu_name(pool, gelu_problem, name):
    text = _tools(pool, gelu_problem)["lookup_hardware"].invoke({"name_or_device": name})
    assert text.startswith("NVIDIA H100 SXM5 80GB (h100_sxm): nvidia hopper, compute capability 9.0")
    assert "3350 GB/s" in text and "bf16 989.4" in text and "132 SMs" in text and "L2 50 MiB" in text
    assert "228 KiB per SM, 227 KiB per block" in text


def test_lookup_hardware_by_torch_device_asks_its_worker(pool, gelu_problem):
    spec = pool.environment(TEST_DEVICE).hardware_spec
    text = _tools(pool, gelu_problem)["lookup_hardware"].invoke({"name_or_device": TEST_DEVICE})
    assert f"({spec})" in text.splitlines()[0]


def test_an_unknown_hardware_name_lists_the_known_specs(pool, gelu_problem):
    text = _tools(pool, gelu_problem)["lookup_hardware"].invoke({"name_or_device": "tpu_v9"})
    assert text.startswith("no hardware spec matches 'tpu_v9'; known specs:") and "h100_sxm" in text
