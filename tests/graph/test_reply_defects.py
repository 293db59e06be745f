"""A coder that never gives a usable module: the run stays up, rounds without a candidate count as rounds
without gain, the plateau rule stops it, and its summary counts the replies."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage

from kevolve.graph.runner import OptimizationRun
from kevolve.graph.search_tree import StopReason
from kevolve.graph.state import add_counts
from kevolve.tools.candidates import Role
from kevolve.tools.llm.base import LLMProvider, ReplyT, RoleLLM, TextReply, TokenUsage
from loop_helpers import cpu_services, gelu_task, plan_reply

CALL = TokenUsage(input_tokens=50, output_tokens=10, calls=1)


class _Replies(RoleLLM):
    def __init__(self, role: Role, replies: list[str | TextReply]) -> None:
        self.role, self.model_name, self.replies = role, "scripted", replies

    def structured(self, schema: type[ReplyT], messages: Sequence[BaseMessage]) -> tuple[ReplyT, TokenUsage]:
        return schema.model_validate_json(self.replies.pop(0)), CALL

    def text(self, messages: Sequence[BaseMessage]) -> tuple[TextReply, TokenUsage]:
        reply = self.replies.pop(0)
        return (reply if isinstance(reply, TextReply) else TextReply(text=reply)), CALL


class _Provider(LLMProvider):
    def __init__(self) -> None:
        self.models = {
            Role.PLANNER: _Replies(Role.PLANNER, [plan_reply("draft", "one program per 1024 elements"),
                                                  plan_reply("draft", "one program per row")]),
            Role.CODER: _Replies(Role.CODER, [TextReply(text="```python\nimport torch\n", truncated=True),
                                              "I would write one fused kernel.", "", "Use Triton."]),
        }

    def for_role(self, role: Role) -> RoleLLM | None:
        return self.models.get(role)


def test_unusable_coder_replies_are_counted_and_the_run_stops_cleanly(tmp_path):
    services = cpu_services(tmp_path / "cache", llm=_Provider())
    library = tmp_path / "lib"
    task = gelu_task(patience=2)
    with services.pool, OptimizationRun.start(tmp_path / "runs", task, services, library=library) as run:
        run.go()
        state = run.state()
        search = state["searches"]["cpu"]
        assert run.finished() and search.stop is StopReason.PLATEAU and search.rounds == 2 and not search.nodes
        assert state["reply_defects"] == {"truncated": 1, "no_code": 2, "empty": 1}
        summary = (run.run.path / "summary.md").read_text()
    assert "coder replies without a usable module: 1 empty, 1 truncated, 2 no_code" in summary
    assert not library.exists()


def test_defect_counts_add_up_across_nodes():
    assert add_counts({"truncated": 1}, {"no_code": 2, "truncated": 1}) == {"truncated": 2, "no_code": 2}
    assert add_counts({}, {}) == {}
