"""What the agents ask of a language model, whatever serves it: a typed reply or text, and its cost."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TypeVar

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ConfigDict

from kevolve.tools.candidates import Role

ReplyT = TypeVar("ReplyT", bound=BaseModel)


class LLMUnavailable(RuntimeError):
    """The endpoint could not be reached, or kept failing, after the configured retries.

    `status_code` is the HTTP status of the last answer, None when no answer came (refused, timed out);
    `detail` is the server's own message, without the model and endpoint the message names.
    """

    def __init__(self, message: str, *, status_code: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail if detail is not None else message


class MalformedReply(RuntimeError):
    """The model's reply could not be parsed into the requested shape, even after the repair attempts.

    `usage` is what the failed attempts cost: they were billed, so the budget counts them.
    `problem` is what was wrong with the last reply.
    """

    def __init__(self, message: str, usage: TokenUsage | None = None, *, problem: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage if usage is not None else TokenUsage()
        self.problem = problem if problem is not None else message


class TokenUsage(BaseModel):
    """Tokens and money spent, counted from the responses' usage metadata."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            calls=self.calls + other.calls,
            cost_usd=self.cost_usd + other.cost_usd,
        )


class TextReply(BaseModel):
    """A free-text reply and whether the token limit cut it off (a cut reply holds no complete module)."""

    model_config = ConfigDict(frozen=True)

    text: str
    truncated: bool = False


class RoleLLM(ABC):
    """One role's configured model. Every call returns what it cost, so the caller can keep the budget."""

    role: Role
    model_name: str
    # Tokens the model reads and writes in one call, from the settings or the server; None when unknown,
    # and then prompts go out whole (the agents fit them to the window only when it is known).
    context_window: int | None = None
    max_output_tokens: int | None = None

    @abstractmethod
    def structured(self, schema: type[ReplyT], messages: Sequence[BaseMessage]) -> tuple[ReplyT, TokenUsage]:
        """A reply parsed into `schema`; raises MalformedReply or LLMUnavailable."""

    @abstractmethod
    def text(self, messages: Sequence[BaseMessage]) -> tuple[TextReply, TokenUsage]:
        """A free-text reply (the coder's, which carries source code); raises LLMUnavailable."""


class LLMProvider(ABC):
    """Maps a role to its model; None means the role runs its deterministic offline policy."""

    @abstractmethod
    def for_role(self, role: Role) -> RoleLLM | None: ...

    def limit_wall_time(self, seconds: float | None) -> None:  # noqa: B027 (a provider that calls no server has no use for it)
        """Ends every model call `seconds` from now (None: no bound), for a run's wall budget."""
