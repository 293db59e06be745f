"""A RoleLLM that plays back scripted replies and records every prompt it was sent."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage, HumanMessage
from pydantic import BaseModel

from kevolve.tools.candidates import Role
from kevolve.tools.llm.base import ReplyT, RoleLLM, TextReply, TokenUsage

CALL_USAGE = TokenUsage(input_tokens=100, output_tokens=20, calls=1)


class ScriptedLLM(RoleLLM):
    """Each call takes the next reply: a string (text), a model or dict (structured), or an exception to raise."""

    def __init__(self, role: Role, replies: Sequence[str | BaseModel | dict | Exception] = ()) -> None:
        self.role = role
        self.model_name = "scripted"
        self._replies = list(replies)
        self.received: list[list[BaseMessage]] = []

    def _next(self, messages: Sequence[BaseMessage]) -> str | BaseModel | dict:
        self.received.append(list(messages))
        if not self._replies:
            raise AssertionError(f"the {self.role} LLM was called more often than scripted")
        reply = self._replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def structured(self, schema: type[ReplyT], messages: Sequence[BaseMessage]) -> tuple[ReplyT, TokenUsage]:
        reply = self._next(messages)
        parsed = schema.model_validate(reply) if isinstance(reply, dict) else reply
        assert isinstance(parsed, schema), f"structured({schema.__name__}) was scripted a {type(reply).__name__}"
        return parsed, CALL_USAGE

    def text(self, messages: Sequence[BaseMessage]) -> tuple[TextReply, TokenUsage]:
        reply = self._next(messages)
        if isinstance(reply, TextReply):
            return reply, CALL_USAGE
        assert isinstance(reply, str), f"text() was scripted a {type(reply).__name__}"
        return TextReply(text=reply), CALL_USAGE

    def last_user_prompt(self) -> str:
        """The human message of the latest call: the task-specific part of the prompt."""
        return next(m.content for m in reversed(self.received[-1]) if isinstance(m, HumanMessage))
