"""The coder: writes one candidate module for a plan.

With an LLM, the prompt is fitted to the model's context window, and the reply's Python module is
taken out of its text. A reply that gives none (empty, cut off by the token limit, or prose) is
classified and asked again once, a cut-off one with a request to be shorter. Without an LLM,
hand-written seed candidates are proposed, each once, then the offline engine's generated kernels
(`tools/offline`); with one, the engine writes the drafts, so a model starts from fused kernels.
"""

from __future__ import annotations

import logging
import threading
from enum import StrEnum
from pathlib import Path

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kevolve.eval_harness.problem import sha256_text
from kevolve.tools.candidates import CandidateOrigin, Diagnosis, Operator, Origin, Plan, TaskView
from kevolve.tools.code_extraction import extract_python_source
from kevolve.tools.llm.base import RoleLLM, TextReply, TokenUsage
from kevolve.tools.offline.engine import OfflineEngine

from .prompt_budget import budget_for, count_message_tokens, estimate_tokens, fit_messages
from .prompt_cuts import knowledge_passages, middle_lines, reference_source, secondary_parents
from .prompting import render

logger = logging.getLogger(__name__)

_NOTES_CHARS = 2000


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
    written_by: CandidateOrigin


class ReplyDefect(StrEnum):
    """Why a coder reply gave no module; the run counts each kind."""

    EMPTY = "empty"  # nothing but whitespace, or only a reasoning block
    TRUNCATED = "truncated"  # cut off by the token limit before the module was complete
    NO_CODE = "no_code"  # a finished reply with no Python module in it


class CoderResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    draft: CoderDraft | None = None
    defects: list[ReplyDefect] = Field(
        default_factory=list, description="each reply that gave no module, in order; a re-ask may have fixed it"
    )


_PROBLEMS = {
    ReplyDefect.EMPTY: "it was empty.",
    ReplyDefect.NO_CODE: "it contains no Python module, neither in a ```python block nor as bare code.",
}
# Least important first: retrieved passages, then the second parent of a crossover; the failing
# parent, its error and the reference are the task itself, so only their middles go, and last.
CODER_CUTS = (
    knowledge_passages(),
    secondary_parents(),
    middle_lines("error", "error"),
    middle_lines("parent source", "parents", get=lambda parents: parents[0][1] if parents else None,
                 put=lambda parents, text: [(parents[0][0], text), *parents[1:]]),
    reference_source(),
)


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
                    return CoderDraft(source=source, notes=f"hand-written seed {path.relative_to(self.directory)}",
                                      written_by=CandidateOrigin(origin=Origin.SEED))
        return None


def _notes(reply: str) -> str | None:
    """The prose the model wrote before its code block (after any reasoning block), as the prompt asks."""
    notes = reply.rsplit("</think>", 1)[-1].split("```", 1)[0].strip()
    return notes[:_NOTES_CHARS] or None


def classify(reply: TextReply) -> tuple[str | None, ReplyDefect | None]:
    """(the module, None), or (None, what is wrong with the reply)."""
    if reply.truncated:
        # Even a module that parses may have lost its last lines to the limit; the harness would
        # spend device time finding out. A shorter reply costs one call.
        return None, ReplyDefect.TRUNCATED
    if not reply.text.rsplit("</think>", 1)[-1].strip():
        return None, ReplyDefect.EMPTY
    source = extract_python_source(reply.text)
    return (source, None) if source is not None else (None, ReplyDefect.NO_CODE)


def _reask_note(defect: ReplyDefect) -> str:
    if defect is ReplyDefect.TRUNCATED:
        return render("coder_reask_shorter")
    return render("coder_reask", problem=_PROBLEMS[defect])


def _reask(prompt: list[BaseMessage], reply: TextReply, defect: ReplyDefect, budget: int | None) -> list[BaseMessage]:
    """The conversation asking once more: the unusable reply quoted where it helps and fits, else only a note."""
    note = _reask_note(defect)
    if defect is ReplyDefect.NO_CODE:
        quoted = [*prompt, AIMessage(content=reply.text), HumanMessage(content=note)]
        if budget is None or count_message_tokens(quoted) <= budget:
            return quoted
    # A cut or empty reply shows the model nothing useful and may not fit the window again. The note
    # joins the user's message: some chat templates refuse two user messages in a row.
    *head, user = prompt
    return [*head, HumanMessage(content=f"{user.content}\n\n{note}")]


def _generated(request: CodingRequest, engine: OfflineEngine | None) -> CoderDraft | None:
    if engine is None:
        return None
    proposal = engine.propose(request.task.reference_source, request.task.policy, request.parent_sources,
                              request.known_sources, request.task.math, request.task.hardware_spec)
    if proposal is None:
        return None
    return CoderDraft(source=proposal.source, notes=proposal.notes, written_by=CandidateOrigin(origin=Origin.ENGINE))


def write_candidate(
    request: CodingRequest, llm: RoleLLM | None, seeds: SeedCandidates | None = None,
    engine: OfflineEngine | None = None,
) -> tuple[CoderResult, TokenUsage]:
    """A candidate for the plan; none when the LLM gave no usable module twice, or nothing offline is left.

    Offline, hand-written seeds come first, then the engine's candidates. With a model, drafts come
    from the engine while it has any: the first generation costs no tokens and starts from fused kernels.
    Raises PromptTooLarge when the model's context window cannot hold even the cut prompt.
    """
    if llm is None:
        draft = seeds.next_unseen(request.task.problem, request.known_sources) if seeds is not None else None
        return CoderResult(draft=draft or _generated(request, engine)), TokenUsage()
    if request.plan.operator is Operator.DRAFT and (draft := _generated(request, engine)) is not None:
        return CoderResult(draft=draft), TokenUsage()
    parents = list(zip(request.plan.parent_ids, request.parent_sources, strict=True))
    variables = dict(task=request.task, plan=request.plan, parents=parents, error=request.error,
                     diagnosis=request.diagnosis, knowledge=request.knowledge, guidance=request.guidance)
    budget = budget_for(llm)
    # The prompt leaves room for the longest re-ask note, so a re-ask fits the window too.
    room = max(estimate_tokens(_reask_note(defect)) for defect in ReplyDefect) + 2
    prompt, _ = fit_messages("coder", variables, CODER_CUTS, budget - room if budget is not None else None)
    reply, usage = llm.text(prompt)
    source, defect = classify(reply)
    defects = [defect] if defect is not None else []
    if defect is not None:
        reply, retry_usage = llm.text(_reask(prompt, reply, defect, budget))
        usage += retry_usage
        source, defect = classify(reply)
        defects += [defect] if defect is not None else []
    if source is None:
        logger.warning("coder: no usable module for plan %r: replies %s", request.plan.strategy,
                       ", ".join(defects))
        return CoderResult(defects=defects), usage
    call = "its first reply" if not defects else f"its reply when asked again after a reply that was {defects[0].value}"
    written_by = CandidateOrigin(origin=Origin.MODEL, model_call=f"{llm.model_name}, {call}")
    return CoderResult(draft=CoderDraft(source=source, notes=_notes(reply.text), written_by=written_by),
                       defects=defects), usage
