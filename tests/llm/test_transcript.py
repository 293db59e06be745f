"""Replaying a transcript: replies in order per role, offline roles, exhaustion, bad files, threads."""

import json
import threading
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from kevolve.tools.candidates import Diagnosis, Operator, Plan, Role
from kevolve.tools.llm.base import LLMUnavailable
from kevolve.tools.llm.transcript import TranscriptError, TranscriptProvider, load_transcript

ASK = [HumanMessage("next")]

TRANSCRIPT = """
planner:
  - operator: draft
    strategy: one fused kernel
    description: fuse the GELU
  - '{"operator": "improve", "parent_ids": ["n1"], "strategy": "wider blocks", "description": "BLOCK 2048"}'
coder:
  - |
    ```python
    class ModelNew: ...
    ```
  - second draft
analyst:
  - '{"bottleneck": "memory"}'
  - bottleneck: memory bandwidth
    headroom: 40% of speed of light
    guidance: vectorise the loads
    knowledge_query: vectorised loads triton
"""


@pytest.fixture
def transcript(tmp_path: Path) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(TRANSCRIPT)
    return path


def test_structured_and_text_replies_are_served_in_order(transcript):
    provider = TranscriptProvider(transcript)
    planner, coder = provider.for_role(Role.PLANNER), provider.for_role(Role.CODER)
    first, _ = planner.structured(Plan, ASK)
    second, _ = planner.structured(Plan, ASK)
    assert (first.operator, first.strategy) == (Operator.DRAFT, "one fused kernel")
    assert (second.operator, second.parent_ids, second.strategy) == (Operator.IMPROVE, ["n1"], "wider blocks")
    reply, usage = coder.text(ASK)
    text = reply.text
    assert text == "```python\nclass ModelNew: ...\n```\n"
    assert usage.output_tokens == len(text) // 4 and usage.calls == 1
    assert coder.text(ASK)[0].text == "second draft"
    assert planner.model_name == "transcript:run.yaml"


def test_a_malformed_recorded_reply_is_repaired_by_the_next_one(transcript):
    diagnosis, usage = TranscriptProvider(transcript).for_role(Role.ANALYST).structured(Diagnosis, ASK)
    assert diagnosis.guidance == "vectorise the loads" and usage.calls == 2


def test_roles_absent_from_the_file_run_offline(transcript):
    provider = TranscriptProvider(transcript)
    assert provider.for_role(Role.REVIEWER) is None and provider.for_role(Role.CHAT) is None


def test_an_exhausted_role_is_unavailable(transcript):
    coder = TranscriptProvider(transcript).for_role(Role.CODER)
    coder.text(ASK)
    coder.text(ASK)
    with pytest.raises(LLMUnavailable, match="transcript exhausted for role coder"):
        coder.text(ASK)


def test_threads_take_each_reply_exactly_once(tmp_path):
    replies = [f"reply {i}" for i in range(64)]
    path = tmp_path / "many.yaml"
    path.write_text(json.dumps({"chat": replies}))  # JSON is YAML
    chat = TranscriptProvider(path).for_role(Role.CHAT)
    taken: list[str] = []

    def take() -> None:
        for _ in range(8):
            taken.append(chat.text(ASK)[0].text)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(replies)


@pytest.mark.parametrize(("content", "complaint"), [
    ("planner: [unclosed", "not valid YAML"),
    ("- a list", "expected a mapping from role to a list of replies"),
    ("", "expected a mapping from role to a list of replies"),
    ("optimizer: [hello]", "unknown role 'optimizer'; roles are planner, coder, reviewer, analyst, chat"),
    ("coder: just one string", "coder: expected a list of replies"),
    ("coder: [ok, 42]", r"coder\[1\]: a reply is a string or a mapping, not int"),
])
def test_bad_files_are_named_in_the_error(tmp_path, content, complaint):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(TranscriptError, match=complaint) as raised:
        load_transcript(path)
    assert str(raised.value).startswith(str(path))


def test_a_missing_file_is_a_transcript_error(tmp_path):
    with pytest.raises(TranscriptError, match=r"missing\.yaml: cannot read it: \[Errno 2\]"):
        TranscriptProvider(tmp_path / "missing.yaml")
