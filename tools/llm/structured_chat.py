"""Any LangChain chat model as a RoleLLM: typed replies by one structured-output method, with bounded repairs."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable
from pydantic import ValidationError

from kevolve.tools.candidates import Role

from .base import LLMUnavailable, MalformedReply, ReplyT, RoleLLM, TextReply, TokenUsage
from .replies import describe, format_instruction, parse_fenced, repair_messages, tool_or_json_problem
from .settings import ModelPrice, StructuredMethod

logger = logging.getLogger(__name__)


class ChatModelLLM(RoleLLM):
    """One role's chat model. Holds no state between calls, so roles and threads may share it.

    `limit`, when given, is held for each request: the provider shares one per endpoint, so a search
    with many parallel branches cannot send a local server more requests than it can batch.
    """

    def __init__(self, model: BaseChatModel, *, role: Role, model_name: str,
                 method: StructuredMethod = StructuredMethod.FUNCTION_CALLING, max_repairs: int = 2,
                 price: ModelPrice | None = None, endpoint: str = "in-process",
                 limit: threading.Semaphore | None = None, context_window: int | None = None,
                 max_output_tokens: int | None = None) -> None:
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

    def structured(self, schema: type[ReplyT], messages: Sequence[BaseMessage]) -> tuple[ReplyT, TokenUsage]:
        fenced = self.method is StructuredMethod.FENCED_JSON
        runnable = self._model if fenced else \
            self._model.with_structured_output(schema, method=self.method.value, include_raw=True)
        conversation = list(messages)
        instruction = format_instruction(self.method, schema)
        if instruction is not None:
            conversation.append(HumanMessage(instruction))
        usage = TokenUsage()
        for attempt in range(self._max_repairs + 1):
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
        reply = self._invoke(self._model, list(messages))
        truncated = reply.response_metadata.get("finish_reason") == "length"
        return TextReply(text=reply.text, truncated=truncated), self._usage(reply)

    def _invoke(self, runnable: Runnable, conversation: list[BaseMessage]) -> Any:
        # The openai client below has already retried 408/409/429/5xx and connection errors.
        started = time.monotonic()
        try:
            with self._limit or nullcontext():
                return runnable.invoke(conversation)
        except openai.APIStatusError as error:
            detail = f"HTTP {error.status_code}: {_server_message(error)}"
            raise LLMUnavailable(f"the {self.role.value} model {self.model_name} at {self._endpoint} answered "
                                 f"{detail}", status_code=error.status_code, detail=detail) from error
        except openai.APIConnectionError as error:  # APITimeoutError included
            root: BaseException = error
            while root.__cause__ is not None:  # LangChain re-raises openai's error, which wraps the socket's
                root = root.__cause__
            cause = f"{error.message} ({type(root).__name__}: {root})"
            raise LLMUnavailable(f"the {self.role.value} model {self.model_name} at {self._endpoint} could not be "
                                 f"reached: {cause} (gave up after {time.monotonic() - started:.1f} s)",
                                 detail=cause) from error

    def _usage(self, reply: BaseMessage) -> TokenUsage:
        metadata = getattr(reply, "usage_metadata", None) or {}
        tokens_in, tokens_out = metadata.get("input_tokens", 0), metadata.get("output_tokens", 0)
        cost = self._price.cost_usd(tokens_in, tokens_out) if self._price is not None else 0.0
        return TokenUsage(input_tokens=tokens_in, output_tokens=tokens_out, calls=1, cost_usd=cost)


# A FastAPI server's request validation error, as llama-cpp-python sends it (with its traceback after).
_VALIDATION_ERROR = re.compile(r"""'loc': \(([^)]*)\), 'msg': (['"])(.*?)\2""")


def _server_message(error: openai.APIStatusError, limit: int = 300) -> str:
    # The client prefixes "Error code: N - " to a body it cannot read a message from.
    message = " ".join(error.message.removeprefix(f"Error code: {error.status_code} - ").split())
    fields = [(".".join(part.strip(" '") for part in loc.split(",") if part.strip(" '")), text)
              for loc, _, text in _VALIDATION_ERROR.findall(message)]
    if fields:
        message = "; ".join(f"{loc}: {text}" for loc, text in fields)
    return message if len(message) <= limit else f"{message[:limit - 3]}..."
