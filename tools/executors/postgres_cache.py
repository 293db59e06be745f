"""The results cache in PostgreSQL, shared by every host of a team (psycopg 3, an optional dependency)."""

from __future__ import annotations

import threading
from typing import Any

from .errors import ExecutorUnavailable
from .result_cache import CREATE_TABLE, CacheEntry, ResultCache


def _connect(url: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise ExecutorUnavailable(
            "a PostgreSQL URL is configured but psycopg is not installed: pip install 'kevolve[postgres]'"
        ) from None
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ExecutorUnavailable(f"cannot reach the results database: {exc}".strip()) from None


class PostgresResultCache(ResultCache):
    def __init__(self, url: str) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._connection = _connect(url)
        with self._lock:
            self._connection.execute(CREATE_TABLE)

    def _execute(self, sql: str, parameters: tuple = ()) -> Any:
        """Runs one statement, reconnecting once if the server closed the connection since the last."""
        with self._lock:
            if self._connection.closed:
                self._connection = _connect(self._url)
            return self._connection.execute(sql, parameters).fetchone()

    def _fetch(self, key: str) -> str | None:
        row = self._execute("SELECT result FROM kevolve_eval_results WHERE key = %s", (key,))
        return row[0] if row else None

    def _store(self, entry: CacheEntry, result_json: str, created_at: str) -> None:
        self._execute(
            "INSERT INTO kevolve_eval_results VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING"
            " RETURNING key",
            (entry.key, entry.problem, entry.candidate_sha256, entry.device, created_at, result_json),
        )

    def count(self) -> int:
        return self._execute("SELECT COUNT(*) FROM kevolve_eval_results")[0]

    def close(self) -> None:
        with self._lock:
            self._connection.close()
