"""`structured_output: auto`: the best method the probe found, and the next one when a call shows it does not work.

A call fails "for a capability reason" when the server rejects the method (HTTP 400/422/500/501
naming response_format, a JSON schema, tools or a grammar) or when its replies never parse under it
(MalformedReply, after the repairs). The endpoint's selector then drops that method for every role
that shares the endpoint and model, logs the one it uses now, and the call is made again with it.
The last working method is never dropped: its failures propagate as they would without `auto`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence

from langchain_core.messages import BaseMessage

from kevolve.tools.candidates import Role

from .base import LLMUnavailable, MalformedReply, ReplyT, RoleLLM, TextReply, TokenUsage
from .capabilities import Capabilities, best_method, working_methods
from .faults import is_capability_error
from .settings import StructuredMethod
from .structured_chat import ChatModelLLM

logger = logging.getLogger(__name__)

class MethodSelector:
    """The structured-output method one endpoint and model uses now; thread-safe.

    `discover` is called once, on first use (a typed reply, or the context window when none is
    configured), so a run that needs neither never probes.
    """

    def __init__(self, discover: Callable[[], Capabilities], *, label: str) -> None:
        self._discover = discover
        self._label = label
        self._found: Capabilities | None = None
        self._methods: list[StructuredMethod] = []
        self._lock = threading.Lock()

    def capabilities(self) -> Capabilities:
        """What the probe found; raises LLMUnavailable when the endpoint cannot be reached (and probes again
        on the next use)."""
        with self._lock:
            if self._found is None:
                self._found = self._discover()
                self._methods = working_methods(self._found)
                if self._methods:
                    logger.info("%s: structured output through %s", self._label, self._methods[0].value)
            return self._found

    def current(self) -> StructuredMethod:
        capabilities = self.capabilities()
        with self._lock:
            if not self._methods:
                best_method(capabilities)  # raises NoStructuredMethod, naming each failure
            return self._methods[0]

    def demote(self, failed: StructuredMethod, reason: str) -> StructuredMethod | None:
        """The method to use after `failed` failed, or None when there is no other to try."""
        with self._lock:
            methods = self._methods
            if failed not in methods:  # another thread demoted it already
                return methods[0] if methods else None
            if len(methods) == 1:
                return None
            methods.remove(failed)
            logger.warning("%s: %s failed (%s); structured output now through %s", self._label, failed.value,
                           reason, methods[0].value)
            return methods[0]


class AdaptiveLLM(RoleLLM):
    """A role's model whose typed replies go through its endpoint's selector; free text goes straight through."""

    def __init__(self, llms: Mapping[StructuredMethod, ChatModelLLM], selector: MethodSelector, *,
                 role: Role, model_name: str, context_window: int | None = None,
                 max_output_tokens: int | None = None) -> None:
        self.role = role
        self.model_name = model_name
        self.max_output_tokens = max_output_tokens
        self._configured_window = context_window
        self._llms = llms
        self._selector = selector

    @property  # RoleLLM declares a plain attribute: here the value may have to come from the probe
    def context_window(self) -> int | None:
        """The configured window, else what the server told the probe (None when it told nothing)."""
        if self._configured_window is not None:
            return self._configured_window
        return self._selector.capabilities().context_length

    def structured(self, schema: type[ReplyT], messages: Sequence[BaseMessage]) -> tuple[ReplyT, TokenUsage]:
        spent = TokenUsage()
        method = self._selector.current()
        tried: set[StructuredMethod] = set()
        while True:
            tried.add(method)
            try:
                reply, usage = self._llms[method].structured(schema, messages)
                return reply, spent + usage
            except MalformedReply as error:
                spent += error.usage
                failure: MalformedReply | LLMUnavailable = error
                reason = error.problem
            except LLMUnavailable as error:
                if not is_capability_error(error):
                    raise
                failure, reason = error, error.detail
            following = self._selector.demote(method, reason)
            if following is None or following in tried:
                if isinstance(failure, MalformedReply):  # with every attempt's cost, not only the last method's
                    raise MalformedReply(str(failure), spent, problem=failure.problem) from failure
                raise failure
            method = following

    def text(self, messages: Sequence[BaseMessage]) -> tuple[TextReply, TokenUsage]:
        # Any method's model serves free text: they share one chat model.
        return self._llms[StructuredMethod.FENCED_JSON].text(messages)
