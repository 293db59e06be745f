"""Any LangChain chat model as a RoleLLM, with bounded repairs of unparsable replies; ChatOpenAI per role."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI
from pydantic import ValidationError

from kevolve.tools.candidates import Role

from .base import LLMProvider, LLMUnavailable, MalformedReply, ReplyT, RoleLLM, TextReply, TokenUsage
from .settings import LLMSettings, ModelPrice, ResolvedModelSettings, StructuredMethod

logger = logging.getLogger(__name__)

# vLLM, SGLang and llama.cpp's server take any key, but the openai client refuses to start without one.
_PLACEHOLDER_API_KEY = "not-needed"


class ChatModelLLM(RoleLLM):
    """One role's chat model. Holds no state between calls, so roles and threads may share it."""

    def __init__(self, model: BaseChatModel, *, role: Role, model_name: str,
                 method: StructuredMethod = StructuredMethod.FUNCTION_CALLING, max_repairs: int = 2,
                 price: ModelPrice | None = None, endpoint: str = "in-process") -> None:
        self.role = role
        self.model_name = model_name
        self._model = model
        self._method = method
        self._max_repairs = max_repairs
        self._price = price
        self._endpoint = endpoint

    def structured(self, schema: type[ReplyT], messages: Sequence[BaseMessage]) -> tuple[ReplyT, TokenUsage]:
        runnable = self._model.with_structured_output(schema, method=self._method.value, include_raw=True)
        conversation = list(messages)
        if self._method is StructuredMethod.JSON_MODE:
            # JSON mode sends no schema, and OpenAI refuses it unless a message says "JSON".
            conversation.append(HumanMessage(f"Reply with one JSON object valid under this JSON schema:\n"
                                             f"{json.dumps(schema.model_json_schema())}"))
        usage = TokenUsage()
        for attempt in range(self._max_repairs + 1):
            try:
                result = self._invoke(runnable, conversation)
            except (ValidationError, openai.LengthFinishReasonError) as error:
                # With json_schema the openai client parses the reply inside the call, so a bad one
                # raises there, without the raw message or its usage.
                if self._method is not StructuredMethod.JSON_SCHEMA:
                    raise
                raw, parsed, problem = None, None, _describe(error)
            else:
                raw, parsed = result["raw"], result["parsed"]
                usage += self._usage(raw)
                problem = _problem(raw, result["parsing_error"])
            if parsed is not None:
                return parsed, usage
            logger.warning("%s reply %d did not parse into %s: %s", self.role.value, attempt + 1,
                           schema.__name__, problem)
            conversation += _repair_messages(raw, problem)
        raise MalformedReply(f"the {self.role.value} model's reply did not parse into {schema.__name__} after "
                             f"{self._max_repairs} repairs ({usage.total_tokens} tokens spent): {problem}", usage)

    def text(self, messages: Sequence[BaseMessage]) -> tuple[TextReply, TokenUsage]:
        reply = self._invoke(self._model, list(messages))
        truncated = reply.response_metadata.get("finish_reason") == "length"
        return TextReply(text=reply.text, truncated=truncated), self._usage(reply)

    def _invoke(self, runnable: Runnable, conversation: list[BaseMessage]) -> Any:
        # The openai client below has already retried 408/409/429/5xx and connection errors.
        try:
            return runnable.invoke(conversation)
        except openai.APIStatusError as error:
            raise LLMUnavailable(f"the {self.role.value} model {self.model_name} at {self._endpoint} answered "
                                 f"HTTP {error.status_code}: {error.message}") from error
        except openai.APIConnectionError as error:  # APITimeoutError included
            root: BaseException = error
            while root.__cause__ is not None:  # LangChain re-raises openai's error, which wraps the socket's
                root = root.__cause__
            raise LLMUnavailable(f"the {self.role.value} model {self.model_name} at {self._endpoint} could not be "
                                 f"reached: {error.message} ({type(root).__name__}: {root})") from error

    def _usage(self, reply: BaseMessage) -> TokenUsage:
        metadata = getattr(reply, "usage_metadata", None) or {}
        tokens_in, tokens_out = metadata.get("input_tokens", 0), metadata.get("output_tokens", 0)
        cost = self._price.cost_usd(tokens_in, tokens_out) if self._price is not None else 0.0
        return TokenUsage(input_tokens=tokens_in, output_tokens=tokens_out, calls=1, cost_usd=cost)


def _problem(raw: AIMessage, parsing_error: BaseException | None) -> str:
    if parsing_error is not None:
        return _describe(parsing_error)
    # LangChain's tool parsers skip a tool call whose arguments are not JSON and return None, silently.
    if raw.invalid_tool_calls:
        return "; ".join(f"the arguments of {call['name']} are not a JSON object ({_json_error(call['args'])})"
                         for call in raw.invalid_tool_calls)
    return "the reply contained no tool call and no JSON object"


def _json_error(text: str | None) -> str:
    # LangChain's own error quotes the whole reply back, which the conversation already holds.
    try:
        json.loads(text or "")
    except json.JSONDecodeError as error:
        return str(error)
    return "JSON, but not an object"


def _describe(error: BaseException) -> str:
    if isinstance(error, ValidationError):  # one line per field, without pydantic's documentation links
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'the reply'}: {e['msg']}" for e in error.errors())
    return str(error)


def _repair_messages(raw: AIMessage | None, problem: str) -> list[BaseMessage]:
    messages: list[BaseMessage] = []
    if raw is not None:
        messages.append(raw)
        # OpenAI refuses a conversation in which an assistant's tool call goes unanswered.
        messages += [ToolMessage("Rejected: see the next message.", tool_call_id=call["id"])
                     for call in [*raw.tool_calls, *raw.invalid_tool_calls] if call["id"]]
    messages.append(HumanMessage(f"Your reply could not be parsed: {problem}\nReply again, in the requested format."))
    return messages


class OpenAIProvider(LLMProvider):
    """ChatOpenAI per role from the settings, built on first use and shared by every caller."""

    def __init__(self, settings: LLMSettings) -> None:
        self._settings = settings
        self._models: dict[Role, ChatModelLLM] = {}
        self._lock = threading.Lock()

    def for_role(self, role: Role) -> ChatModelLLM | None:
        resolved = self._settings.resolved(role)
        if resolved is None:
            return None
        with self._lock:
            if role not in self._models:
                self._models[role] = _chat_openai_llm(resolved)
            return self._models[role]


def _chat_openai_llm(settings: ResolvedModelSettings) -> ChatModelLLM:
    api_key = settings.api_key.get_secret_value() if settings.api_key is not None else _PLACEHOLDER_API_KEY
    model = ChatOpenAI(
        model=settings.model,
        base_url=settings.base_url,
        api_key=api_key,
        temperature=settings.temperature,
        timeout=settings.timeout_s,
        # The openai client retries 408, 409, 429, 5xx and connection errors with exponential backoff
        # and honours Retry-After: that is the one retry loop, so none is written here.
        max_retries=settings.max_retries,
        max_tokens=settings.max_output_tokens,
        # LangChain picks OpenAI's Responses API for some model names; other servers answer only
        # /chat/completions, so it is chosen only for OpenAI itself.
        use_responses_api=False if settings.base_url else None,
    )
    return ChatModelLLM(model, role=settings.role, model_name=settings.model, method=settings.structured_output,
                        max_repairs=settings.max_repairs, price=settings.price,
                        endpoint=settings.base_url or "https://api.openai.com/v1")
