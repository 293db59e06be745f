"""The cuts a role may take to fit its prompt: each removes whole units (passages, nodes, lines) and says so.

Every cut leaves a visible trace in the prompt (a count of what was left out, or a marker where lines
went), so the model never mistakes a shortened source or history for the whole of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from pydantic import BaseModel

from .prompt_budget import CHARS_PER_TOKEN, Cut, Variables

# A short source stays recognisable by its first and last lines: its imports and its entry point.
KEEP_LINES_EACH_SIDE = 4
_MARKER = re.compile(r"^\[\.\.\. (\d+) lines? cut to fit the context window \.\.\.\]$")
# format_for_prompt's note on passages it left out for its own word limit.
_LENGTH_FOOTER = re.compile(r"\n\(\d+ more passages? left out for length\)\Z")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def marker(count: int) -> str:
    return f"[... {_plural(count, 'line')} cut to fit the context window ...]"


@dataclass(frozen=True)
class KnowledgeSection:
    """Retrieved passages as whole blocks, best first, so a cut drops the lowest-ranked passage, never words.

    `parse` reads the layout of kevolve.tools.knowledge.prompt_context.format_for_prompt: a header,
    then blocks numbered [1], [2], ... Text in another layout is one passage, kept or dropped whole.
    """

    header: str
    passages: tuple[str, ...]
    footer: str = ""
    dropped: int = 0

    @classmethod
    def parse(cls, text: str) -> KnowledgeSection:
        body = text.strip()
        footer = _LENGTH_FOOTER.search(body)
        if footer is not None:
            body = body[: footer.start()]
        starts: list[int] = []
        while (found := body.find(f"\n\n[{len(starts) + 1}] ", starts[-1] + 2 if starts else 0)) != -1:
            starts.append(found)
        tail = footer.group(0).strip() if footer is not None else ""
        if not starts:
            return cls(header="", passages=(body,) if body else (), footer=tail)
        return cls(header=body[: starts[0]], footer=tail,
                   passages=tuple(body[a + 2: b] for a, b in pairwise([*starts, len(body)])))

    def without_last(self) -> KnowledgeSection:
        return replace(self, passages=self.passages[:-1], dropped=self.dropped + 1)

    def __bool__(self) -> bool:
        return bool(self.header or self.passages or self.footer or self.dropped)

    def __str__(self) -> str:
        blocks = [part for part in (self.header, "\n\n".join(self.passages)) if part]
        notes = [self.footer] if self.footer else []
        if self.dropped:
            notes.append(f"({_plural(self.dropped, 'passage')} left out to fit the context window)")
        return "\n".join(part for part in ("\n\n".join(blocks), *notes) if part)


def knowledge_passages(variable: str = "knowledge") -> Cut:
    """Drops the lowest-ranked passage of a section (a KnowledgeSection, or text it can parse)."""

    def step(variables: Mapping[str, Any], _excess: int) -> tuple[Variables, str] | None:
        value = variables[variable]
        section = value if isinstance(value, KnowledgeSection) else KnowledgeSection.parse(str(value or ""))
        if not section.passages:
            return None
        return {**variables, variable: section.without_last()}, f"dropped passage {len(section.passages)}"

    return Cut("knowledge passages", step)


def fewer_items(name: str, variable: str, *, rank: Callable[[Any], Any] | None = None,
                left_out: str | None = None) -> Cut:
    """Leaves out the lowest-ranked items of a list, an eighth a step (at least one), the rest in their order.

    Without `rank` the list's own order is its ranking; `left_out` names a variable counting what went.
    """

    def step(variables: Mapping[str, Any], _excess: int) -> tuple[Variables, str] | None:
        items = list(variables[variable])
        if not items:
            return None
        drop = max(1, len(items) // 8)
        # sorted() is stable, so ties keep the list's order and every run cuts the same items.
        order = sorted(range(len(items)), key=lambda i: rank(items[i])) if rank else list(range(len(items)))
        kept = set(order[: len(items) - drop])
        update: Variables = {variable: [item for i, item in enumerate(items) if i in kept]}
        if left_out is not None:
            update[left_out] = variables.get(left_out, 0) + drop
        return {**variables, **update}, f"left out {drop} of {len(items)}"

    return Cut(name, step)


def cut_middle(text: str, excess_tokens: int) -> tuple[str, int] | None:
    """`text` with whole lines from its middle replaced by one marker, enough to save about `excess_tokens`,
    and how many lines went this time; None when only the first and last few lines are left."""
    lines = text.splitlines()
    marked = next((i for i, line in enumerate(lines) if _MARKER.match(line)), None)
    if marked is None:
        head, tail, before = lines[: len(lines) // 2], lines[len(lines) // 2:], 0
        wanted = excess_tokens * CHARS_PER_TOKEN + len(marker(len(lines)))  # the marker costs room too
    else:
        head, tail = lines[:marked], lines[marked + 1:]
        before = int(_MARKER.match(lines[marked]).group(1))
        wanted = excess_tokens * CHARS_PER_TOKEN
    removed, saved = 0, 0
    while saved < wanted and len(head) + len(tail) > 2 * KEEP_LINES_EACH_SIDE:
        # From the longer side, so the cut stays in the middle and both ends survive.
        line = head.pop() if len(head) > len(tail) else tail.pop(0)
        removed, saved = removed + 1, saved + len(line) + 1
    if not removed:
        return None
    shortened = "\n".join([*head, marker(before + removed), *tail])
    return shortened + ("\n" if text.endswith("\n") else ""), removed


def _same(value: Any) -> str | None:
    return value


def _replaced(_old: Any, text: str) -> Any:
    return text


def middle_lines(name: str, variable: str, *, get: Callable[[Any], str | None] = _same,
                 put: Callable[[Any, str], Any] = _replaced) -> Cut:
    """Cuts lines from the middle of a text variable, or of the text `get` finds in it (`put` writes it back)."""

    def step(variables: Mapping[str, Any], excess: int) -> tuple[Variables, str] | None:
        value = variables[variable]
        text = get(value) if value is not None else None
        cut = cut_middle(text, excess) if text else None
        if cut is None:
            return None
        shortened, removed = cut
        return {**variables, variable: put(value, shortened)}, f"{_plural(removed, 'line')} from the middle"

    return Cut(name, step)


def _with_reference(task: BaseModel, text: str) -> BaseModel:
    return task.model_copy(update={"reference_source": text})


def reference_source(variable: str = "task") -> Cut:
    """The last resort: the middle of the reference module, whose interface and entry points stay."""
    return middle_lines("reference source", variable, get=lambda task: task.reference_source, put=_with_reference)


def elided_parent(node_id: str) -> str:
    return f"# The source of {node_id} is left out to fit the context window: take from it what the plan says."


def secondary_parents(variable: str = "parents") -> Cut:
    """Replaces the source of a crossover's later parents, last first, by a note; the first parent stays whole."""

    def step(variables: Mapping[str, Any], _excess: int) -> tuple[Variables, str] | None:
        parents = list(variables[variable])
        for index in range(len(parents) - 1, 0, -1):
            node_id, source = parents[index]
            if source != elided_parent(node_id):
                parents[index] = (node_id, elided_parent(node_id))
                return {**variables, variable: parents}, f"left out the source of {node_id}"
        return None

    return Cut("secondary parent sources", step)
