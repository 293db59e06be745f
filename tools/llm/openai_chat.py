"""ChatOpenAI per role from the settings: bounded requests per endpoint, and `auto` structured output."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from langchain_core.messages import BaseMessage
from langchain_openai import ChatOpenAI

from kevolve.tools.candidates import Role

from .base import LLMProvider, RoleLLM
from .cache_folder import default_cache_dir
from .capabilities import PREFERENCE, Capabilities
from .capability_cache import capabilities_for
from .deadline import WallClock
from .fallback import AdaptiveLLM, MethodSelector
from .openai_client import chat_openai, endpoint_of, with_reply_limit
from .request_limit import RequestLimit
from .settings import LLMSettings, ResolvedModelSettings, StructuredMethod
from .structured_chat import ChatModelLLM
from .tokens import reply_tokens

__all__ = ["OpenAIProvider"]


class OpenAIProvider(LLMProvider):
    """A model per role, built on first use and shared by every caller.

    Roles on one endpoint share one bound on requests in flight (`max_concurrent_requests`, from the
    defaults: it describes the server, not a role) and, under `auto`, one probe and one method selector
    per model. `capabilities_dir` keeps the probe's results (the run's folder), taken from a recent
    `llm check` when it made one; None probes once per provider and keeps nothing. Every call and
    probe ends when the wall time given to `limit_wall_time` runs out.
    """

    def __init__(self, settings: LLMSettings, *, capabilities_dir: Path | None = None) -> None:
        self._settings = settings
        self._capabilities_dir = capabilities_dir
        self._models: dict[Role, RoleLLM] = {}
        self._limits: dict[str, RequestLimit] = {}
        self._selectors: dict[tuple[str, str], MethodSelector] = {}
        self._lock = threading.Lock()
        self._wall = WallClock()

    def limit_wall_time(self, seconds: float | None) -> None:
        self._wall.limit_to(seconds)

    def for_role(self, role: Role) -> RoleLLM | None:
        resolved = self._settings.resolved(role)
        if resolved is None:
            return None
        with self._lock:
            if role not in self._models:
                self._models[role] = self._build(resolved)
            return self._models[role]

    def _build(self, settings: ResolvedModelSettings) -> RoleLLM:
        endpoint = endpoint_of(settings)
        bound = self._settings.concurrency_at(endpoint_given=settings.base_url is not None)
        limit = self._limits.setdefault(endpoint, RequestLimit(bound))
        model = chat_openai(settings, self._wall)
        selector = self._selector(settings, endpoint, limit) if settings.structured_output is StructuredMethod.AUTO \
            else None

        def window() -> int | None:
            # Under `auto` the probe tells the window when the settings do not (the probe runs at most once).
            if settings.context_window is not None or selector is None:
                return settings.context_window
            return selector.capabilities().context_length

        def sized(conversation: Sequence[BaseMessage]) -> ChatOpenAI:
            return with_reply_limit(model, reply_tokens(conversation, window()))

        def llm(method: StructuredMethod) -> ChatModelLLM:
            return ChatModelLLM(model, role=settings.role, model_name=settings.model, method=method,
                                max_repairs=settings.max_repairs, price=settings.price, endpoint=endpoint,
                                limit=limit, context_window=settings.context_window,
                                max_output_tokens=settings.max_output_tokens, sized=sized,
                                wall=self._wall, timeout_s=settings.timeout_s)

        if selector is None:
            return llm(settings.structured_output)
        return AdaptiveLLM({method: llm(method) for method in PREFERENCE}, selector,
                           role=settings.role, model_name=settings.model, context_window=settings.context_window,
                           max_output_tokens=settings.max_output_tokens)

    def _selector(self, settings: ResolvedModelSettings, endpoint: str, limit: RequestLimit) -> MethodSelector:
        key = (endpoint, settings.model)
        if key not in self._selectors:
            # Unconfigured, the bound on requests in flight becomes what the probe found the server serves.
            resize = limit.resize if self._settings.max_concurrent_requests is None else None
            discover = partial(_discover, settings, self._capabilities_dir, self._wall, resize)
            self._selectors[key] = MethodSelector(discover, label=f"{settings.model} at {endpoint}")
        return self._selectors[key]


def _discover(settings: ResolvedModelSettings, cache_dir: Path | None, wall: WallClock,
              resize: Callable[[int], None] | None) -> Capabilities:
    capabilities = capabilities_for(settings, cache_dir, wall=wall, checked_in=default_cache_dir())[0]
    if resize is not None and capabilities.parallel_requests is not None:
        resize(capabilities.parallel_requests)
    return capabilities
