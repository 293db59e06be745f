"""A campaign's state: its spec, its problems with their run ids and states, the time it ran, and when each
evaluation held a device. SQLite in the campaign's folder by default; PostgreSQL when a database URL is
configured, so several hosts share one campaign and anyone can resume it.

The runs themselves keep everything a search learned (their checkpoints); this store keeps only what the
campaign adds on top, so a resume reads each problem's progress from its run, never from a copy here.
"""

from __future__ import annotations

import sqlite3
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..database import connect_postgres
from .spec import CampaignSpec

STATE_FILE = "campaign.sqlite"

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS kevolve_campaigns (
        id TEXT PRIMARY KEY, spec TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        auto_approve INTEGER NOT NULL, elapsed_s DOUBLE PRECISION NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS kevolve_campaign_problems (
        campaign_id TEXT NOT NULL, name TEXT NOT NULL, position INTEGER NOT NULL, path TEXT NOT NULL,
        run_id TEXT, state TEXT NOT NULL, detail TEXT, PRIMARY KEY (campaign_id, name))""",
    """CREATE TABLE IF NOT EXISTS kevolve_campaign_evaluations (
        campaign_id TEXT NOT NULL, run_id TEXT NOT NULL, device TEXT NOT NULL, name TEXT NOT NULL,
        started_at DOUBLE PRECISION NOT NULL, ended_at DOUBLE PRECISION NOT NULL)""",
]


class CampaignNotFound(LookupError):
    """A campaign id or folder that holds no campaign."""


class ProblemState(StrEnum):
    PENDING = "pending"  # no run yet
    SEARCHING = "searching"  # its run has devices still searching, or is on its way to approval
    WAITING = "waiting"  # a kernel waits for a person: `kevolve review`
    DONE = "done"  # its run finished (approved, auto-approved, nothing to approve, or declined)
    SKIPPED = "skipped"  # never started: the campaign's budget ran out first
    FAILED = "failed"  # its run could not go on (detail says why); `kevolve campaign resume` retries it


class CampaignRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    spec: CampaignSpec
    created_at: float
    auto_approve: bool
    elapsed_s: float = 0.0


class ProblemEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    position: int
    path: str
    run_id: str | None = None
    state: ProblemState = ProblemState.PENDING
    detail: str | None = None


class EvaluationInterval(BaseModel):
    """When one evaluation (a candidate's, with any baseline measured for it) held a device; epoch seconds."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    device: str
    name: str
    started_at: float
    ended_at: float


class CampaignStore:
    """Safe to share between threads: one connection, used under a lock."""

    def __init__(self, connection: Any, *, placeholder: str, description: str) -> None:
        self._connection = connection
        self._placeholder = placeholder
        self.description = description
        self._lock = threading.Lock()
        for statement in _SCHEMA:
            self._execute(statement)

    @classmethod
    def sqlite(cls, path: Path) -> CampaignStore:
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        return cls(connection, placeholder="?", description=str(path))

    @classmethod
    def postgres(cls, url: str) -> CampaignStore:
        return cls(connect_postgres(url), placeholder="%s", description="PostgreSQL")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> CampaignStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _execute(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with self._lock:
            cursor = self._connection.execute(sql.replace("?", self._placeholder), parameters)
            return list(cursor.fetchall()) if cursor.description else []

    def create(self, record: CampaignRecord, problems: list[ProblemEntry]) -> None:
        self._execute("INSERT INTO kevolve_campaigns (id, spec, created_at, auto_approve, elapsed_s) "
                      "VALUES (?, ?, ?, ?, ?)", (record.id, record.spec.model_dump_json(), record.created_at,
                                                 int(record.auto_approve), record.elapsed_s))
        for entry in problems:
            self.put_problem(record.id, entry)

    def campaign(self, campaign_id: str) -> CampaignRecord:
        rows = self._execute("SELECT id, spec, created_at, auto_approve, elapsed_s FROM kevolve_campaigns "
                             "WHERE id = ?", (campaign_id,))
        if not rows:
            raise CampaignNotFound(f"no campaign {campaign_id!r} in {self.description}")
        campaign_id, spec, created_at, auto_approve, elapsed_s = rows[0]
        return CampaignRecord(id=campaign_id, spec=CampaignSpec.model_validate_json(spec), created_at=created_at,
                              auto_approve=bool(auto_approve), elapsed_s=elapsed_s)

    def campaign_ids(self) -> list[str]:
        return [row[0] for row in self._execute("SELECT id FROM kevolve_campaigns ORDER BY created_at")]

    def add_elapsed(self, campaign_id: str, seconds: float) -> None:
        self._execute("UPDATE kevolve_campaigns SET elapsed_s = elapsed_s + ? WHERE id = ?", (seconds, campaign_id))

    def put_problem(self, campaign_id: str, entry: ProblemEntry) -> None:
        self._execute(
            "INSERT INTO kevolve_campaign_problems (campaign_id, name, position, path, run_id, state, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, name) DO UPDATE SET "
            "run_id = excluded.run_id, state = excluded.state, detail = excluded.detail",
            (campaign_id, entry.name, entry.position, entry.path, entry.run_id, entry.state.value, entry.detail),
        )

    def problems(self, campaign_id: str) -> list[ProblemEntry]:
        rows = self._execute("SELECT name, position, path, run_id, state, detail FROM kevolve_campaign_problems "
                             "WHERE campaign_id = ? ORDER BY position", (campaign_id,))
        return [ProblemEntry(name=name, position=position, path=path, run_id=run_id, state=ProblemState(state),
                             detail=detail) for name, position, path, run_id, state, detail in rows]

    def add_evaluation(self, campaign_id: str, interval: EvaluationInterval) -> None:
        self._execute("INSERT INTO kevolve_campaign_evaluations (campaign_id, run_id, device, name, started_at, "
                      "ended_at) VALUES (?, ?, ?, ?, ?, ?)", (campaign_id, interval.run_id, interval.device,
                                                             interval.name, interval.started_at, interval.ended_at))

    def evaluations(self, campaign_id: str) -> list[EvaluationInterval]:
        rows = self._execute("SELECT run_id, device, name, started_at, ended_at FROM kevolve_campaign_evaluations "
                             "WHERE campaign_id = ? ORDER BY started_at", (campaign_id,))
        return [EvaluationInterval(run_id=run_id, device=device, name=name, started_at=started, ended_at=ended)
                for run_id, device, name, started, ended in rows]


class IntervalLog:
    """The campaign's evaluation intervals: written to the store as each ends, and kept in memory for the
    scheduler's and the view's arithmetic."""

    def __init__(self, store: CampaignStore, campaign_id: str) -> None:
        self._store = store
        self._campaign_id = campaign_id
        self._lock = threading.Lock()
        self._intervals = store.evaluations(campaign_id)

    def record(self, interval: EvaluationInterval) -> None:
        self._store.add_evaluation(self._campaign_id, interval)
        with self._lock:
            self._intervals.append(interval)

    def all(self) -> list[EvaluationInterval]:
        with self._lock:
            return list(self._intervals)
