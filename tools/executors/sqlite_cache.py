"""The results cache in one SQLite file, shared by every run on the machine (processes and threads)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from .result_cache import CREATE_TABLE, CacheEntry, ResultCache

# Several runs write at once: wait for another writer's lock rather than fail.
_BUSY_TIMEOUT_S = 30.0


class SqliteResultCache(ResultCache):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection shared by the executor's threads, serialized by a lock (sqlite3 objects are not thread-safe).
        self._connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, check_same_thread=False,
                                           isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            # WAL: readers in other processes do not block a writer, nor it them.
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute(CREATE_TABLE)

    def _fetch(self, key: str) -> str | None:
        with self._lock:
            row = self._connection.execute("SELECT result FROM kevolve_eval_results WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _store(self, entry: CacheEntry, result_json: str, created_at: str) -> None:
        with self._lock:
            self._connection.execute(
                "INSERT OR IGNORE INTO kevolve_eval_results VALUES (?, ?, ?, ?, ?, ?)",
                (entry.key, entry.problem, entry.candidate_sha256, entry.device, created_at, result_json),
            )

    def count(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT COUNT(*) FROM kevolve_eval_results").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._connection.close()
