"""Where evaluations run: one interface (`Executor`), a local and a Ray implementation, and the results cache.

The names are exported lazily (PEP 562): the command line reads `ExecutorKind` to build its parser,
and importing the local executor eagerly would load PyTorch before `kevolve --help` could answer.
"""

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "ExecutorUnavailable": "errors",
    "Executor": "executor",
    "open_executor": "factory",
    "open_result_cache": "factory",
    "LocalExecutor": "local",
    "CacheEntry": "result_cache",
    "ResultCache": "result_cache",
    "cache_entry": "result_cache",
    "is_cacheable": "result_cache",
    "ExecutorKind": "settings",
    "ExecutorSettings": "settings",
    "ResultCacheSettings": "settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
