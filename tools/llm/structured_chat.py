"""Any LangChain chat model as a RoleLLM: typed replies by one structured-output method, with bounded repairs."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import openai
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable
from pydantic import ValidationError

from kevolve.tools.candidates import Role

from .base import LLMUnavailable, MalformedReply, ReplyT, RoleLLM, TextReply, TokenUsage
from .deadline import WallBudgetSpent, WallClock
from .faults import quoted
from .replies import describe, format_instruction, parse_fenced, repair_messages, tool_or_json_problem
from .settings import ModelPrice, StructuredMethod

# The model with the reply limit a conversation leaves it (for a client whose limit is set per call).
ReplySizer = Callable[[Sequence[BaseMessage]], BaseChatModel]

logger = logging.getLogger(__name__)


class ChatModelLLM(RoleLLM):
    """One role's chat model. Holds no state between calls, so roles and threads may share it.

    `limit`, when given, is held for each request: the provider shares one per endpoint, so a search
    with many parallel branches cannot send a local server more requests than it can batch.
    `sized`, when given and no output limit is configured, gives each request the limit its prompt
    leaves in the window: a request without one runs to the end of the context.
    `wall` is the run's wall budget: no call starts once it is spent, and one it ends says so.
    """

    def __init__(self, model: BaseChatModel, *, role: Role, model_name: str,
                 method: StructuredMethod = StructuredMethod.FUNCTION_CALLING, max_repairs: int = 2,
                 price: ModelPrice | None = None, endpoint: str = "in-process",
                 limit: AbstractContextManager | None = None, context_window: int | None = None,
                 max_output_tokens: int | None = None, sized: ReplySizer | None = None,
                 wall: WallClock | None = None, timeout_s: float | None = None) -> None:
        if method is StructuredMethod.AUTO:
            raise ValueError("`auto` is resolved to a method by the provider; a ChatModelLLM takes a method")
        self.role = role
        self.model_name = model_name
        self.method = method
        self.context_window = context_window
        self.max_output_tokens = max_output_tokens
        self._model = model
        self._max_repairs = max_repairs
        self._price = price
        self._endpoint = endpoint
        self._limit = limit
        self._sized = sized
        self._wall = wall
        self._timeout_s = timeout_s

    def structured(self, schema: type[ReplyT], messages: Sequence[BaseMessage]) -> tuple[ReplyT, TokenUsage]:
        fenced = self.method is StructuredMethod.FENCED_JSON
        conversation = list(messages)
        instruction = format_instruction(self.method, schema)
        if instruction is not None:
            conversation.append(HumanMessage(instruction))
        usage = TokenUsage()
        for attempt in range(self._max_repairs + 1):
            model = self._model_for(conversation)
            runnable = model if fenced else \
                model.with_structured_output(schema, method=self.method.value, include_raw=True)
            raw: AIMessage | None
            try:
                result = self._invoke(runnable, conversation)
            except (ValidationError, openai.LengthFinishReasonError) as error:
                # With json_schema the openai client parses the reply inside the call, so a bad one
                # raises there, without the raw message or its usage.
                if self.method is not StructuredMethod.JSON_SCHEMA:
                    raise
                raw, parsed, problem = None, None, describe(error)
            else:
                raw = result if fenced else result["raw"]
                usage += self._usage(raw)
                if fenced:
                    parsed, problem = parse_fenced(raw, schema)
                else:
                    parsed = result["parsed"]
                    problem = "" if parsed is not None else tool_or_json_problem(raw, result["parsing_error"])
            if parsed is not None:
                return parsed, usage
            if attempt < self._max_repairs:  # the last failure is raised, for the caller to report
                logger.warning("%s reply %d did not parse into %s (%s), asking again: %s", self.role.value,
                               attempt + 1, schema.__name__, self.method.value, problem)
            conversation += repair_messages(raw, problem)
        raise MalformedReply(f"the {self.role.value} model's reply did not parse into {schema.__name__} after "
                             f"{self._max_repairs} repairs ({usage.total_tokens} tokens spent): {problem}", usage,
                             problem=problem)

    def text(self, messages: Sequence[BaseMessage]) -> tuple[TextReply, TokenUsage]:
        reply = self._invoke(self._model_for(messages), list(messages))
        truncated = reply.response_metadata.get("finish_reason") == "length"
        return TextReply(text=reply.text, truncated=truncated), self._usage(reply)

    def _model_for(self, conversation: Sequence[BaseMessage]) -> BaseChatModel:
        if self._sized is None or self.max_output_tokens is not None:
            return self._model
        return self._sized(conversation)

    def _invoke(self, runnable: Runnable, conversation: list[BaseMessage]) -> Any:
        # The openai client below has already retried 408/409/429/5xx and connection errors.
        who = f"the {self.role.value} model {self.model_name} at {self._endpoint}"
        if self._wall is not None and self._wall.spent:
            raise WallBudgetSpent(f"the run's wall budget was spent before {who} was asked")
        started = time.monotonic()
        try:
            with self._limit or nullcontext():
                return runnable.invoke(conversation)
        except (openai.APIStatusError, openai.APIConnectionError) as error:
            if self._wall is not None and self._wall.spent:
                raise WallBudgetSpent(f"the run's wall budget ran out while {who} was answering "
                                      f"({time.monotonic() - started:.1f} s into the call)") from error
            raise self._unavailable(who, error, time.monotonic() - started) from error
        except ValueError as error:
            if isinstance(error, (ValidationError, OutputParserException)):
                raise  # a reply that does not parse: the caller repairs it
            # A 200 whose body is no chat completion: JSONDecodeError keeps the body, LangChain quotes it.
            body = error.doc if isinstance(error, json.JSONDecodeError) else str(error)
            detail = f"HTTP 200 with a body that is not a chat completion: {quoted(body)}"
            raise LLMUnavailable(f"{who} answered {detail}; is base_url the server's /v1 address?",
                                 status_code=200, detail=detail) from error

    def _unavailable(self, who: str, error: openai.APIError, waited: float) -> LLMUnavailable:
        if isinstance(error, openai.APIStatusError):
            detail = f"HTTP {error.status_code}: {_server_message(error)}"
            return LLMUnavailable(f"{who} answered {detail}", status_code=error.status_code, detail=detail)
        root: BaseException = error
        while root.__cause__ is not None:  # LangChain re-raises openai's error, which wraps the socket's
            root = root.__cause__
        if isinstance(error, openai.APITimeoutError) and self._timeout_s is not None:
            cause = (f"no complete reply within timeout_s={self._timeout_s:g} s ({type(root).__name__}: {root}); "
                     "a slow server needs a larger `timeout_s`")
            return LLMUnavailable(f"{who} was too slow: {cause} (gave up after {waited:.1f} s)", detail=cause)
        cause = f"{error.message} ({type(root).__name__}: {root})"
        return LLMUnavailable(f"{who} could not be reached: {cause} (gave up after {waited:.1f} s)", detail=cause)

    def _usage(self, reply: BaseMessage) -> TokenUsage:
        metadata = getattr(reply, "usage_metadata", None) or {}
        tokens_in, tokens_out = metadata.get("input_tokens", 0), metadata.get("output_tokens", 0)
        cost = self._price.cost_usd(tokens_in, tokens_out) if self._price is not None else 0.0
        return TokenUsage(input_tokens=tokens_in, output_tokens=tokens_out, calls=1, cost_usd=cost)


# A FastAPI server's request validation error, as llama-cpp-python sends it (with its traceback after).
_VALIDATION_ERROR = re.compile(r"""'loc': \(([^)]*)\), 'msg': (['"])(.*?)\2""")


def _server_message(error: openai.APIStatusError) -> str:
    # The client prefixes "Error code: N - " to a body it cannot read a message from.
    message = " ".join(error.message.removeprefix(f"Error code: {error.status_code} - ").split())
    fields = [(".".join(part.strip(" '") for part in loc.split(",") if part.strip(" '")), text)
              for loc, _, text in _VALIDATION_ERROR.findall(message)]
    if fields:
        message = "; ".join(f"{loc}: {text}" for loc, text in fields)
    return quoted(message)
