"""Token counts estimated without the model's tokenizer, and the reply limit every request carries.

3.5 characters a token: BPE vocabularies of current models average about 4 characters a token on
English prose and 3.5 to 4 on code, so the estimate errs towards too many tokens, and a prompt
fitted by it fits. The agents fit prompts by it (agents/prompt_budget.py); the clients size replies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from langchain_core.messages import BaseMessage

CHARS_PER_TOKEN = 3.5
# Chat templates wrap each message in role markers and separators: a few tokens each.
TOKENS_PER_MESSAGE = 8
# The reply's room when the model's output limit is not configured: a complete kernel module with
# two or three kernels is 1,000 to 2,000 tokens.
DEFAULT_OUTPUT_RESERVE = 2048
# Room for what the estimate cannot see: a chat template's own preamble, text that tokenizes badly.
SAFETY_FRACTION = 0.05
# A prompt that leaves less than this still gets it: a typed reply needs a few dozen tokens, and a
# server refuses a request that does not fit more clearly than it handles a limit of a handful.
MIN_REPLY_TOKENS = 128

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def count_message_tokens(prompt: Sequence[BaseMessage], count_tokens: TokenCounter = estimate_tokens) -> int:
    return sum(count_tokens(str(message.content)) + TOKENS_PER_MESSAGE for message in prompt)


def reply_tokens(prompt: Sequence[BaseMessage], context_window: int | None) -> int:
    """The reply limit for `prompt` when none is configured: what the window leaves, at most the default.

    Never unlimited: a server given no limit generates until the context is full (minutes a call
    on a small local server, seen with llama-cpp-python).
    """
    if context_window is None:
        return DEFAULT_OUTPUT_RESERVE
    room = context_window - count_message_tokens(prompt) - math.ceil(context_window * SAFETY_FRACTION)
    return max(MIN_REPLY_TOKENS, min(DEFAULT_OUTPUT_RESERVE, room))
