"""Where evaluations run: one interface (`Executor`), a local and a Ray implementation, and the results cache."""

from .errors import ExecutorUnavailable
from .executor import Executor
from .factory import open_executor, open_result_cache
from .local import LocalExecutor
from .result_cache import CacheEntry, ResultCache, cache_entry, is_cacheable
from .settings import ExecutorKind, ExecutorSettings, ResultCacheSettings

__all__ = [
    "CacheEntry",
    "Executor",
    "ExecutorKind",
    "ExecutorSettings",
    "ExecutorUnavailable",
    "LocalExecutor",
    "ResultCache",
    "ResultCacheSettings",
    "cache_entry",
    "is_cacheable",
    "open_executor",
    "open_result_cache",
]
