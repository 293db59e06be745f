"""Opening the configured executor and its results cache: the one place that chooses between them."""

from __future__ import annotations

from pathlib import Path

from kevolve.eval_harness.settings import EvalSettings

from .executor import Executor
from .local import LocalExecutor
from .result_cache import ResultCache
from .settings import ExecutorKind, ExecutorSettings, ResultCacheSettings
from .sqlite_cache import SqliteResultCache


def open_result_cache(settings: ResultCacheSettings) -> ResultCache | None:
    """PostgreSQL when a URL is set, else the machine's SQLite file; None when caching is off."""
    if not settings.enabled:
        return None
    if settings.database_url:
        from .postgres_cache import PostgresResultCache

        return PostgresResultCache(settings.database_url)
    return SqliteResultCache(settings.sqlite_path)


def open_executor(
    executor: ExecutorSettings,
    settings: EvalSettings,
    *,
    cache_dir: Path | None = None,
    use_baseline_cache: bool = True,
    artifacts_dir: Path | None = None,
) -> Executor:
    """`cache_dir` and `use_baseline_cache` are the harness's baseline cache, on each device's host."""
    cache = open_result_cache(executor.results)
    options = {"cache": cache, "cache_dir": cache_dir, "use_baseline_cache": use_baseline_cache,
               "artifacts_dir": artifacts_dir}
    try:
        if executor.kind is ExecutorKind.RAY:
            from .ray_executor import RayExecutor

            return RayExecutor(settings, executor=executor, **options)
        return LocalExecutor(settings, **options)
    except BaseException:
        if cache is not None:
            cache.close()
        raise
