"""Fits a role's prompt into the model's context window, cutting its least important parts first.

A role renders its prompt from its variables; while the prompt is over budget, the next cut in the
role's priority order takes one deterministic step (drop a whole knowledge passage, leave out a node
of the history, replace lines in the middle of a source by a marker saying how many went). Every
step is logged and returned. Nothing is ever cut mid-line, so never mid-token.

Tokens are estimated without the model's tokenizer (kevolve.tools.llm.tokens says how); a caller
with the real tokenizer passes `count_tokens`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from kevolve.tools.llm.base import RoleLLM
from kevolve.tools.llm.tokens import (  # noqa: F401 (CHARS_PER_TOKEN: the cuts import it from here)
    CHARS_PER_TOKEN,
    DEFAULT_OUTPUT_RESERVE,
    SAFETY_FRACTION,
    TokenCounter,
    count_message_tokens,
    estimate_tokens,
)

from .prompting import messages

logger = logging.getLogger(__name__)

Variables = dict[str, Any]


def budget_for(llm: RoleLLM | None) -> int | None:
    """Prompt tokens the role's model can take with room left for its reply; None when its window is unknown."""
    window = llm.context_window if llm is not None else None
    if not window:
        return None
    # A small window gives the reply a quarter of itself rather than the default.
    reserve = llm.max_output_tokens or min(DEFAULT_OUTPUT_RESERVE, window // 4)
    return window - reserve - math.ceil(window * SAFETY_FRACTION)


@dataclass(frozen=True)
class CutRecord:
    """One cut as taken: what each of its steps removed, and the prompt's size before and after them all."""

    role: str
    cut: str
    details: tuple[str, ...]
    tokens_before: int
    tokens_after: int

    def describe(self) -> str:
        steps = self.details if len(self.details) <= 3 else (self.details[0], "...", self.details[-1])
        return (f"{self.cut} in {len(self.details)} step{'s' if len(self.details) != 1 else ''} "
                f"({'; '.join(steps)}), {self.tokens_before} -> {self.tokens_after} tokens")


@dataclass(frozen=True)
class Cut:
    """A named, deterministic reduction of a prompt's variables.

    `step(variables, excess_tokens)` returns smaller variables and a description of what went, or
    None when this cut has nothing left to take. Each step must take something, so fitting ends.
    """

    name: str
    step: Callable[[Mapping[str, Any], int], tuple[Variables, str] | None]


class PromptTooLarge(RuntimeError):
    """Even with every cut taken, the role's prompt does not fit the model's context window."""

    def __init__(self, role: str, tokens: int, budget_tokens: int, cuts: Sequence[CutRecord]) -> None:
        taken = ", ".join(record.cut for record in cuts) or "none applies"
        super().__init__(
            f"the {role} prompt needs about {tokens} tokens after every cut ({taken}), but only {budget_tokens} "
            "fit the model's context window once its reply is reserved: configure a larger context window or a "
            "smaller max_output_tokens"
        )
        self.role = role
        self.tokens = tokens
        self.budget_tokens = budget_tokens
        self.cuts = list(cuts)


def fit_messages(
    role_name: str,
    variables: Mapping[str, Any],
    cuts: Sequence[Cut],
    budget_tokens: int | None,
    *,
    count_tokens: TokenCounter = estimate_tokens,
) -> tuple[list[BaseMessage], list[CutRecord]]:
    """The role's messages within `budget_tokens`, and the cuts taken, in order; no budget, no cuts.

    Cuts are taken in the order given, the least important part of the prompt first: a cut steps
    until the prompt fits or it has nothing left, then the next one starts. Raises PromptTooLarge.
    """
    current: Variables = dict(variables)
    prompt = messages(role_name, **current)
    if budget_tokens is None:
        return prompt, []
    size = count_message_tokens(prompt, count_tokens)
    records: list[CutRecord] = []
    for cut in cuts:
        before, details = size, []
        while size > budget_tokens and (step := cut.step(current, size - budget_tokens)) is not None:
            current, detail = step
            details.append(detail)
            prompt = messages(role_name, **current)
            size = count_message_tokens(prompt, count_tokens)
        if details:
            records.append(CutRecord(role_name, cut.name, tuple(details), before, size))
            logger.info("%s prompt over its %d-token budget: cut %s", role_name, budget_tokens, records[-1].describe())
    if size > budget_tokens:
        raise PromptTooLarge(role_name, size, budget_tokens, records)
    return prompt, records
