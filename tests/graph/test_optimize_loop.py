"""The whole loop on the CPU: scripted models write real Triton kernels (one wrong on purpose), the
harness judges them in Triton's interpreter, the search repairs, improves, plateaus, waits for a
person, takes a rejection's comment to the next plan, and writes the approved kernel to the library."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage

from kevolve.eval_harness.results import EvalStatus, SpeedComparison
from kevolve.graph.approval import ApprovalDecision
from kevolve.graph.runner import NothingToDecide, OptimizationRun
from kevolve.graph.search_tree import ApprovalState, StopReason
from kevolve.tools.candidates import Operator, Role
from kevolve.tools.llm.base import LLMProvider, ReplyT, RoleLLM, TextReply, TokenUsage
from kevolve.tools.llm.transcript import TranscriptProvider
from loop_helpers import cpu_services, gelu_kernel, gelu_task, plan_reply, write_transcript

REJECTION = "keep BLOCK at most 512: the reviewer wants small register footprints"


class _Recording(RoleLLM):
    def __init__(self, inner: RoleLLM, log: list[str]) -> None:
        self.inner, self.log = inner, log
        self.role, self.model_name = inner.role, inner.model_name

    def structured(self, schema: type[ReplyT], messages: Sequence[BaseMessage]) -> tuple[ReplyT, TokenUsage]:
        self.log.append("\n".join(str(m.content) for m in messages))
        return self.inner.structured(schema, messages)

    def text(self, messages: Sequence[BaseMessage]) -> tuple[TextReply, TokenUsage]:
        self.log.append("\n".join(str(m.content) for m in messages))
        return self.inner.text(messages)


class RecordingProvider(LLMProvider):
    """The transcript's models, with every prompt each role was sent kept for the test to read."""

    def __init__(self, inner: LLMProvider) -> None:
        self.inner = inner
        self.prompts: dict[Role, list[str]] = {role: [] for role in Role}

    def for_role(self, role: Role) -> RoleLLM | None:
        model = self.inner.for_role(role)
        return _Recording(model, self.prompts[role]) if model is not None else None


@pytest.fixture
def scripted(tmp_path: Path) -> RecordingProvider:
    planner = [
        plan_reply("draft", "one program per 1024 elements"),
        plan_reply("repair", "restore the 0.5 factor", ["cpu-r01-0"]),
        plan_reply("improve", "larger blocks", ["cpu-r02-0"], gain=1.2),
        plan_reply("improve", "even larger blocks", ["cpu-r03-0"], gain=1.1),
        # after the person's rejection
        plan_reply("improve", "smaller blocks as the reviewer asked", ["cpu-r02-0"]),
        plan_reply("explore", "two elements per thread", ["cpu-r05-0"]),
    ]
    coder = [
        gelu_kernel(block=1024, half=1.0),  # wrong on purpose: the 0.5 factor is missing
        gelu_kernel(block=1024),
        gelu_kernel(block=2048, fenced=False),  # unfenced replies are code too
        gelu_kernel(block=4096),
        gelu_kernel(block=512),
        gelu_kernel(block=256),
    ]
    return RecordingProvider(TranscriptProvider(write_transcript(tmp_path / "t.yaml", {"planner": planner,
                                                                                        "coder": coder})))


def test_scripted_models_drive_repair_improvement_plateau_rejection_and_approval(tmp_path, scripted):
    library = tmp_path / "library"
    services = cpu_services(tmp_path / "cache", llm=scripted)
    with services.pool, OptimizationRun.start(tmp_path / "runs", gelu_task(patience=2), services,
                                              library=library) as run:
        run.go()
        search = run.state()["searches"]["cpu"]
        nodes = search.nodes
        assert nodes["cpu-r01-0"].outcome.status is EvalStatus.INCORRECT
        assert nodes["cpu-r01-0"].outcome.error_kind == "output_mismatch"
        assert nodes["cpu-r02-0"].plan.operator is Operator.REPAIR and nodes["cpu-r02-0"].accepted
        assert nodes["cpu-r03-0"].plan.operator is Operator.IMPROVE and nodes["cpu-r03-0"].accepted
        # the repair's prompt carried the failure the harness found
        assert "output_mismatch" in scripted.prompts[Role.CODER][1]
        # CPU timings are not meaningful: every accepted candidate ranks alike, so the search plateaus
        assert search.stop is StopReason.PLATEAU and search.rounds == 4
        assert search.best.id == "cpu-r02-0"

        [waiting] = run.pending()
        assert waiting.node_id == "cpu-r02-0" and waiting.previous_best is None
        assert "+" in waiting.diff_against_previous_best and waiting.correctness_trials
        assert all(trial.passed for trial in waiting.correctness_trials)
        assert not library.exists()

        planner_calls = len(scripted.prompts[Role.PLANNER])
        run.decide(waiting.review_id, ApprovalDecision.on(waiting, approved=False, reviewer="ada", comment=REJECTION))
        # the rejection's comment reached the very next plan, and the search went on
        assert REJECTION in scripted.prompts[Role.PLANNER][planner_calls]
        search = run.state()["searches"]["cpu"]
        assert "cpu-r02-0" in search.rejected and search.rounds > 4

        [waiting] = run.pending()
        assert waiting.node_id != "cpu-r02-0"
        with pytest.raises(NothingToDecide):
            run.decide("no-such-run:node", ApprovalDecision.on(waiting, approved=True, reviewer="ada"))
        run.decide(waiting.review_id, ApprovalDecision.on(waiting, approved=True, reviewer="grace"))
        assert run.finished()
        assert run.state()["searches"]["cpu"].approval is ApprovalState.APPROVED

    [kernel] = library.glob("elementwise_gelu_tanh/*/*.py")
    record = json.loads(kernel.with_suffix(".json").read_text())
    assert record["approved_by"] == "grace" and not record["automatic_approval"]
    assert record["node_id"] == waiting.node_id and record["torch_version"]
    assert kernel.read_text() == (run.run.path / f"candidates/{waiting.node_id}.py").read_text()
    assert "elementwise_gelu_tanh" in (run.run.path / "summary.md").read_text()


def test_auto_approval_is_recorded_as_nobody_looking(tmp_path, scripted):
    services = cpu_services(tmp_path / "cache", llm=scripted)
    task = gelu_task(patience=2, max_rounds=3, auto_approve=True)
    with services.pool, OptimizationRun.start(tmp_path / "runs", task, services, library=tmp_path / "lib") as run:
        run.go()
        assert run.finished() and not run.pending()
        assert run.state()["searches"]["cpu"].approval is ApprovalState.AUTO_APPROVED
    [record] = (tmp_path / "lib").glob("*/*/*.json")
    assert json.loads(record.read_text())["automatic_approval"] is True


class _JudgedSlower:
    """The real CPU pool, with every verdict given the timing comparisons a GPU would add: slower."""

    def __init__(self, pool) -> None:
        self.pool = pool

    def __getattr__(self, name):
        return getattr(self.pool, name)

    def evaluate(self, problem, device, source, *, name="candidate"):
        result = self.pool.evaluate(problem, device, source, name=name)
        slower = SpeedComparison(baseline="compiled", speedup=0.9, ci_low=0.85, ci_high=0.95, verdict="slower")
        return result.model_copy(update={"comparisons": [slower]})


def test_auto_approval_declines_a_kernel_slower_than_a_baseline(tmp_path, scripted):
    services = cpu_services(tmp_path / "cache", llm=scripted)
    services.pool = _JudgedSlower(services.pool)
    task = gelu_task(patience=2, max_rounds=3, auto_approve=True)
    with services.pool.pool, OptimizationRun.start(tmp_path / "runs", task, services, library=tmp_path / "lib") as run:
        run.go()
        search = run.state()["searches"]["cpu"]
        assert search.best is not None and search.best.outcome.beats_baselines is False
        assert search.approval is ApprovalState.NOT_FASTER
    assert not (tmp_path / "lib").exists()


def test_a_run_with_the_knowledge_base_cites_passages_and_writes_back_what_it_learned(tmp_path, scripted):
    from kevolve.graph.services import open_knowledge_with_documents
    from kevolve.tools.knowledge.models import EntryKind
    from kevolve.tools.knowledge.settings import KnowledgeSettings

    knowledge = open_knowledge_with_documents(KnowledgeSettings(data_dir=tmp_path / "knowledge"))
    services = cpu_services(tmp_path / "cache", llm=scripted, knowledge=knowledge)
    task = gelu_task(patience=2, max_rounds=2, auto_approve=True)
    with knowledge, services.pool, OptimizationRun.start(tmp_path / "runs", task, services,
                                                         library=tmp_path / "lib") as run:
        run.go()
        # the shipped hardware documents were retrieved into the planner's and the coder's prompts
        assert "Knowledge base (cite as [n])" in scripted.prompts[Role.PLANNER][0]
        assert "Knowledge base (cite as [n])" in scripted.prompts[Role.CODER][0]
        # round 1's wrong draft was written back as a learned failure; round 2's repair is no win on the CPU,
        # where timings mean nothing (a later GPU search would read it as advice)
        learned = knowledge.stats().passages_by_kind
        assert learned.get(EntryKind.LEARNED_FAILURE, 0) >= 1 and learned.get(EntryKind.LEARNED_WIN, 0) == 0


def test_the_langgraph_server_entry_point_compiles_the_same_graph():
    from kevolve.graph.app import graph

    assert "optimize" in graph.get_graph().nodes
    root = Path(__file__).resolve().parents[2]
    config = json.loads((root / "langgraph.json").read_text())
    assert config["graphs"]["kevolve"] == "./graph/app.py:graph"
