"""A run replayed from recorded replies, through the same ChatModelLLM path a served model takes.

The file is YAML: `{planner: [reply, ...], coder: [...], ...}`. A reply is a string; a structured
reply is a JSON object as a string, or a YAML mapping. Each role's replies are served in order;
a role absent from the file runs its offline policy.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.tool import invalid_tool_call, tool_call
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from kevolve.tools.candidates import Role
from kevolve.tools.yaml_file import read_yaml

from .base import LLMProvider, LLMUnavailable
from .structured_chat import ChatModelLLM

# No tokenizer stands behind a transcript; ~4 characters a token keeps token budgets meaningful in a replay.
_CHARS_PER_TOKEN = 4


class TranscriptError(ValueError):
    """The transcript file cannot be read or does not have the expected shape."""


class ScriptedChatModel(BaseChatModel):
    """Answers each call with the next scripted reply; a call bound to a tool gets the reply as that tool's call.

    Binding tools is what LangChain's `with_structured_output` does, so structured replies take the
    function-calling path: a reply that is not a JSON object becomes an invalid tool call, as from a server.
    """

    replies: list[str]
    label: str = "scripted"
    _position: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "kevolve-scripted"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        with self._lock:
            if self._position == len(self.replies):
                raise LLMUnavailable(f"transcript exhausted for role {self.label}")
            reply = self.replies[self._position]
            self._position += 1
            call_id = f"call_{self._position}"
        tools = kwargs.get("tools")
        message = _as_tool_call(reply, tools[0]["function"]["name"], call_id) if tools else AIMessage(reply)
        tokens_in = sum(len(m.text) for m in messages) // _CHARS_PER_TOKEN
        tokens_out = len(reply) // _CHARS_PER_TOKEN
        message.usage_metadata = {"input_tokens": tokens_in, "output_tokens": tokens_out,
                                  "total_tokens": tokens_in + tokens_out}
        return ChatResult(generations=[ChatGeneration(message=message)])


def _as_tool_call(reply: str, name: str, call_id: str) -> AIMessage:
    try:
        arguments = json.loads(reply)
        if not isinstance(arguments, dict):
            raise ValueError(f"expected a JSON object, got {type(arguments).__name__}")
    except ValueError as error:  # json.JSONDecodeError included
        malformed = invalid_tool_call(name=name, args=reply, id=call_id, error=str(error))
        return AIMessage("", invalid_tool_calls=[malformed])
    return AIMessage("", tool_calls=[tool_call(name=name, args=arguments, id=call_id)])


def load_transcript(path: Path) -> dict[Role, list[str]]:
    """Each role's replies, structured ones as JSON text; raises TranscriptError naming the file."""
    document = read_yaml(path, TranscriptError)
    if not isinstance(document, dict):
        raise TranscriptError(f"{path}: expected a mapping from role to a list of replies")
    transcript: dict[Role, list[str]] = {}
    for key, replies in document.items():
        try:
            role = Role(key)
        except ValueError:
            raise TranscriptError(f"{path}: unknown role {key!r}; roles are {', '.join(Role)}") from None
        if not isinstance(replies, list):
            raise TranscriptError(f"{path}: {key}: expected a list of replies")
        transcript[role] = [_reply_text(reply, f"{path}: {key}[{index}]") for index, reply in enumerate(replies)]
    return transcript


def _reply_text(reply: object, where: str) -> str:
    if isinstance(reply, str):
        return reply
    if isinstance(reply, dict):
        return json.dumps(reply, default=str)  # default=str: YAML turns unquoted dates into date objects
    raise TranscriptError(f"{where}: a reply is a string or a mapping, not {type(reply).__name__}")


class TranscriptProvider(LLMProvider):
    """Serves each role in the file its replies in order; an exhausted role raises LLMUnavailable."""

    def __init__(self, path: Path, *, max_repairs: int = 2) -> None:
        self._llms = {
            role: ChatModelLLM(ScriptedChatModel(replies=replies, label=role.value), role=role,
                               model_name=f"transcript:{path.name}", max_repairs=max_repairs, endpoint=str(path))
            for role, replies in load_transcript(path).items()
        }

    def for_role(self, role: Role) -> ChatModelLLM | None:
        return self._llms.get(role)
