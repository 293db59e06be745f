"""The chat role: what a person's message asks the system to do.

With a model, the message and a description of the session go to the chat role for a typed
`ChatIntent`. Without one, or when its reply cannot be read, keyword rules decide: they cover the
phrasings the help text teaches, and say "help" for everything else rather than guess.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from kevolve.eval_harness.precision import Precision
from kevolve.tools.llm.base import MalformedReply, RoleLLM, TokenUsage

from .prompt_budget import PromptTooLarge, budget_for, fit_messages
from .prompt_cuts import middle_lines

logger = logging.getLogger(__name__)

# The person's words are the request: only the description of the session loses lines.
CHAT_CUTS = (middle_lines("session description", "context"),)


class ChatAction(StrEnum):
    OPTIMIZE = "optimize"  # start a run on a problem
    STATUS = "status"  # how the run goes, its best kernel so far
    SHOW_KERNEL = "show_kernel"  # the best kernel's source and speedups
    STOP = "stop"  # every device stops after the round in flight
    APPROVE = "approve"  # the kernel waiting for a person goes to the library
    REJECT = "reject"  # ... or does not, and the search resumes with the comment as guidance
    HELP = "help"
    QUIT = "quit"


class ChatIntent(BaseModel):
    model_config = ConfigDict(frozen=True)

    actions: list[ChatAction] = Field(
        min_length=1,
        description="what the person asks for, in the order to do it: 'stop and show me the kernel' is "
                    "[stop, show_kernel]; [help] when the message asks for nothing the system can do",
    )
    problem: str | None = Field(
        default=None,
        description="for optimize: the problem as the person named it, a file path ending in .py or the "
                    "words naming the operator (e.g. 'layernorm'); null when not named",
    )
    device: str | None = Field(
        default=None, description="the target device exactly as the person said it, e.g. 'H100' or 'cuda:1'"
    )
    precision: Precision | None = Field(
        default=None, description="for optimize: the precision regime the person asked for; null when not named "
                                  "(the session's default applies)",
    )
    comment: str | None = Field(
        default=None, description="for reject: the person's reason, in their words, for the next search rounds"
    )


PATH_PATTERN = re.compile(r"[\w./~-]*[\w-]\.py\b")
DEVICE_PATTERN = re.compile(r"\b(cuda:\d+|cpu|[hab]\d00|l40s|mi300x?)\b", re.IGNORECASE)
# Words that name a regime; "default" is left out: in a sentence it rarely means the regime, which is the default.
PRECISION_WORDS = {"exact": Precision.EXACT, "tf32": Precision.TF32, "bf16": Precision.BF16,
                   "bfloat16": Precision.BF16, "fp16": Precision.FP16, "float16": Precision.FP16}
PRECISION_PATTERN = re.compile(r"\b(" + "|".join(PRECISION_WORDS) + r")\b", re.IGNORECASE)

# Each action's cue words; where they occur in the message orders the actions.
_CUES: dict[ChatAction, re.Pattern[str]] = {
    ChatAction.QUIT: re.compile(r"\b(quit|exit|bye|goodbye)\b"),
    ChatAction.REJECT: re.compile(r"\breject|\bno\b\W+because\b|\bdon'?t (approve|accept)\b"),
    ChatAction.APPROVE: re.compile(r"\b(approv|accept|lgtm\b|ship it\b)"),
    ChatAction.STOP: re.compile(r"\b(stop|halt|abort|cancel)\b"),
    ChatAction.SHOW_KERNEL: re.compile(r"\b(show|see|print|display)\b.*\b(kernel|code|source)s?\b"),
    ChatAction.STATUS: re.compile(r"\b(best|status|progress|so far|how is|how's|how are)\b"),
    ChatAction.OPTIMIZE: re.compile(r"\b(faster|optimi[sz]e|speed (it )?up|accelerate|tune)\b"),
    ChatAction.HELP: re.compile(r"\b(help|what can you do)\b"),
}
# What cannot be taken back: an approved kernel is used, a rejection steers the search, a stop or a quit ends it.
# The model's reading of one of these is acted on only where the person's words carry its cue too: a small
# model that reads "how is it going?" as "approve" must not put a kernel in the library.
IN_THE_PERSONS_WORDS = frozenset({ChatAction.APPROVE, ChatAction.REJECT, ChatAction.STOP, ChatAction.QUIT})
# Showing the kernel reports its speedups, so "show me the best kernel" needs no separate status.
_SUBSUMED = {ChatAction.SHOW_KERNEL: ChatAction.STATUS, ChatAction.REJECT: ChatAction.APPROVE}
# The reason follows "because" when there is one, else the rejecting words.
_COMMENT_AFTER = (re.compile(r"\bbecause\b[\s,:]*", re.IGNORECASE),
                  re.compile(r"\breject(?:ed|ing)?\b(?:\s+(?:it|this|that|the kernel))?[\s,:-]*", re.IGNORECASE))
# Words of a request that never name an operator.
_FILLER = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "can", "could", "for", "from", "get", "give", "i", "if", "in", "is",
    "it", "its", "kernel", "let", "make", "me", "my", "now", "of", "on", "one", "op", "operator", "please",
    "problem", "run", "so", "start", "than", "that", "the", "this", "to", "try", "up", "us", "we", "with", "you",
    "your", "faster", "optimize", "optimise", "speed", "accelerate", "tune", "quicker", "fast", "gpu", "device"
})


def understand_offline(message: str) -> ChatIntent:
    """Keyword rules: the cue words in the message, in the order they occur."""
    text = message.lower()
    found = {action: match.start() for action, pattern in _CUES.items() if (match := pattern.search(text))}
    path = PATH_PATTERN.search(message)
    if path and ChatAction.OPTIMIZE not in found and not {ChatAction.SHOW_KERNEL, ChatAction.STATUS} & found.keys():
        found[ChatAction.OPTIMIZE] = path.start()
    if ChatAction.REJECT in found:
        # What follows the rejection is its reason: "reject it, it calls exit()" asks for no quit.
        found = {action: at for action, at in found.items() if at <= found[ChatAction.REJECT]}
    for broader, narrower in _SUBSUMED.items():
        if broader in found:
            found.pop(narrower, None)
    actions = sorted(found, key=found.__getitem__) or [ChatAction.HELP]
    device = DEVICE_PATTERN.search(message)
    precision = PRECISION_PATTERN.search(message)
    return ChatIntent(
        actions=actions,
        problem=_problem_words(message, path) if ChatAction.OPTIMIZE in actions else None,
        device=device.group(0) if device else None,
        precision=PRECISION_WORDS[precision.group(0).lower()] if precision else None,
        comment=_comment(message) if ChatAction.REJECT in actions else None,
    )


def _problem_words(message: str, path: re.Match[str] | None) -> str | None:
    if path is not None:
        return path.group(0)
    words = re.findall(r"[a-z0-9]+", PRECISION_PATTERN.sub(" ", DEVICE_PATTERN.sub(" ", message.lower())))
    named = [word for word in words if word not in _FILLER and len(word) > 1]
    return " ".join(named) or None


def _comment(message: str) -> str | None:
    for pattern in _COMMENT_AFTER:
        if match := pattern.search(message):
            return message[match.end():].strip(" .,:;-") or None
    return None


class Reading(NamedTuple):
    """What a message asks for, what reading it cost, and what the model read that is not acted on."""

    intent: ChatIntent
    usage: TokenUsage
    held: tuple[ChatAction, ...] = ()  # model readings in IN_THE_PERSONS_WORDS the person's words do not carry


def understand(message: str, *, context: str, llm: RoleLLM | None) -> Reading:
    """The intent of `message`; `context` tells the model whether a run goes and what waits for approval.

    Raises LLMUnavailable when the model cannot be reached: the caller says so, then may use the rules.
    """
    if llm is None:
        return Reading(understand_offline(message), TokenUsage())
    try:
        prompt, _ = fit_messages("chat", dict(message=message, context=context), CHAT_CUTS, budget_for(llm))
        intent, usage = llm.structured(ChatIntent, prompt)
    except PromptTooLarge as exc:
        # A message too long for the model's window is still a message: the rules read any length.
        logger.warning("chat: %s; understood by keywords instead", exc)
        return Reading(understand_offline(message), TokenUsage())
    except MalformedReply as exc:
        logger.warning("chat: unreadable reply, understood by keywords instead: %s", exc)
        return Reading(understand_offline(message), exc.usage)
    intent, held = _surer(intent, understand_offline(message))
    return Reading(intent, usage, held)


def _surer(model: ChatIntent, keywords: ChatIntent) -> tuple[ChatIntent, tuple[ChatAction, ...]]:
    """The model's reading, less what cannot be taken back unless the keyword rules read it too.

    The rules say "help" whenever they are unsure, so a request they read is one they are sure of; a
    small model that answers "help" to "make the softmax in softmax_rows.py faster" is not. Where the model's
    reading is nothing but help, or nothing is left once the held actions are out, the rules' reading is used.
    """
    held = tuple(action for action in model.actions
                 if action in IN_THE_PERSONS_WORDS and action not in keywords.actions)
    kept = [action for action in model.actions if action not in held]
    if held:
        logger.info("chat: the model read %s, which the message's words do not say: not acted on",
                    [action.value for action in held])
    if not kept or (kept == [ChatAction.HELP] and keywords.actions != [ChatAction.HELP]):
        logger.info("chat: the model read %s, the keyword rules %s: the rules' reading is used",
                    [action.value for action in model.actions], [action.value for action in keywords.actions])
        return keywords, held
    return model.model_copy(update={"actions": kept}), held
