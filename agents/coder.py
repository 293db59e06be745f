"""The coder: writes one candidate module for a plan.

With an LLM, the reply's Python module is taken out of its text (one re-ask when there is none).
Without one, hand-written seed candidates are proposed, each once, so the offline flow still
evaluates real kernels.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kevolve.eval_harness.problem import sha256_text
from kevolve.tools.candidates import Diagnosis, Plan, TaskView
from kevolve.tools.code_extraction import extract_python_source
from kevolve.tools.llm.base import RoleLLM, TokenUsage

from .prompting import messages, render

logger = logging.getLogger(__name__)

_NOTES_CHARS = 2000
_NO_CODE = "it contains no Python module, neither in a ```python block nor as bare code."


class CodingRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    task: TaskView
    plan: Plan
    parent_sources: list[str] = Field(default_factory=list, description="parallel to plan.parent_ids")
    error: str | None = Field(default=None, description="the failing parent's error, for a repair")
    diagnosis: Diagnosis | None = None
    knowledge: str = ""
    guidance: list[str] = Field(default_factory=list, description="people's comments on rejected kernels")
    known_sources: set[str] = Field(
        default_factory=set, description="sha256 of every source already in the tree, so no seed is proposed twice"
    )

    @model_validator(mode="after")
    def _one_source_per_parent(self) -> CodingRequest:
        if len(self.parent_sources) != len(self.plan.parent_ids):
            raise ValueError(f"{len(self.parent_sources)} parent sources for parents {self.plan.parent_ids}")
        return self


class CoderDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    notes: str | None = None


class SeedCandidates:
    """Hand-written candidates: `<directory>/<problem>.py`, or several as `<directory>/<problem>/*.py`."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        # Seeds handed out but not in the tree yet: candidates of one round are written in parallel.
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def files_for(self, problem: str) -> list[Path]:
        single = self.directory / f"{problem}.py"
        several = sorted((self.directory / problem).glob("*.py"))
        return [single, *several] if single.is_file() else several

    def next_unseen(self, problem: str, known_sources: set[str]) -> CoderDraft | None:
        """The first seed, in file order, neither in the tree nor handed out; None when all were proposed."""
        with self._lock:
            for path in self.files_for(problem):
                source = path.read_text(encoding="utf-8")
                digest = sha256_text(source)
                if digest not in known_sources and digest not in self._claimed:
                    self._claimed.add(digest)
                    return CoderDraft(source=source, notes=f"hand-written seed {path.relative_to(self.directory)}")
        return None


def _notes(reply: str) -> str | None:
    """The prose the model wrote before its code block (after any reasoning block), as the prompt asks."""
    notes = reply.rsplit("</think>", 1)[-1].split("```", 1)[0].strip()
    return notes[:_NOTES_CHARS] or None


def write_candidate(
    request: CodingRequest, llm: RoleLLM | None, seeds: SeedCandidates | None = None
) -> tuple[CoderDraft | None, TokenUsage]:
    """A candidate for the plan, or None when the LLM gave no code twice or no seed is left."""
    if llm is None:
        draft = seeds.next_unseen(request.task.problem, request.known_sources) if seeds is not None else None
        return draft, TokenUsage()
    parents = list(zip(request.plan.parent_ids, request.parent_sources, strict=True))
    prompt = messages(
        "coder", task=request.task, plan=request.plan, parents=parents, error=request.error,
        diagnosis=request.diagnosis, knowledge=request.knowledge, guidance=request.guidance,
    )
    reply, usage = llm.text(prompt)
    source = extract_python_source(reply.text)
    if source is None:
        retry = [*prompt, AIMessage(content=reply.text),
                 HumanMessage(content=render("coder_reask", problem=_NO_CODE))]
        reply, retry_usage = llm.text(retry)
        usage += retry_usage
        source = extract_python_source(reply.text)
    if source is None:
        logger.warning("coder: no Python module in the reply, twice, for plan %r", request.plan.strategy)
        return None, usage
    return CoderDraft(source=source, notes=_notes(reply.text)), usage
