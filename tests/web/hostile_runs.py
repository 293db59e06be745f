"""Run folders made hostile, for the tests that check one cannot take the review queue down or fool a reviewer.

Each case copies the waiting run under another id (its checkpoints' thread renamed, so they are read as
that run's) and damages one thing in the copy, as a damaged disk or a crafted folder would.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import ormsgpack

CHECKPOINTS = "checkpoints.sqlite"
# What a constructor the serializer let through would leave behind: the foreign-constructor case names it.
FOREIGN_MARK = "foreign-constructor-ran"


def copy_run(runs: Path, new_id: str) -> Path:
    run = next(path for path in sorted(runs.iterdir()) if (path / CHECKPOINTS).is_file())  # the healthy one
    copy = runs / new_id
    shutil.copytree(run, copy)
    with closing(sqlite3.connect(copy / CHECKPOINTS)) as database:
        for table in ("checkpoints", "writes"):
            database.execute(f"UPDATE {table} SET thread_id = ?", (new_id,))
        database.commit()
    return copy


def _replace_interrupts(run: Path, value: bytes) -> None:
    with closing(sqlite3.connect(run / CHECKPOINTS)) as database:
        database.execute("UPDATE writes SET type = 'msgpack', value = ? WHERE channel = '__interrupt__'", (value,))
        database.commit()


def _garbage_database(run: Path) -> None:
    (run / CHECKPOINTS).write_bytes(b"not a database " * 64)


def _folder_for_database(run: Path) -> None:
    (run / CHECKPOINTS).unlink()
    (run / CHECKPOINTS).mkdir()


def _fifo(name: str) -> Callable[[Path], None]:
    """A named pipe where a file should be: a read of it would wait for ever for a writer."""
    def damage(run: Path) -> None:
        (run / name).unlink(missing_ok=True)
        os.mkfifo(run / name)

    return damage


def _postgres_marker(run: Path) -> None:
    (run / "checkpoints.postgres").write_text("this run's checkpoints are in PostgreSQL\n")


def _foreign_constructor(run: Path) -> None:
    # LangGraph's msgpack extension 0: call module.name(arg) while decoding. The allow-list must refuse it.
    call = ormsgpack.packb(["os", "system", f"touch {run / FOREIGN_MARK}"])
    _replace_interrupts(run, ormsgpack.packb([ormsgpack.Ext(0, call)]))


def _invalid_task(run: Path) -> None:
    (run / "task.json").write_bytes(b"\xff\xfe{ not a task")


def _garbage_decisions(run: Path) -> None:
    (run / "decisions.jsonl").write_text('{"request": "forged"}\n\x00\x01 garbage\n')


# (case, damage, what the reason names)
DAMAGES: list[tuple[str, Callable[[Path], None], str]] = [
    ("garbage-database", _garbage_database, "file is not a database"),
    ("no-database", lambda run: (run / CHECKPOINTS).unlink(), "it has no checkpoints.sqlite"),
    ("folder-for-database", _folder_for_database, "checkpoints.sqlite is not a regular file"),
    ("fifo-for-database", _fifo(CHECKPOINTS), "checkpoints.sqlite is not a regular file"),
    ("fifo-for-decisions", _fifo("decisions.jsonl"), "decisions.jsonl is not a regular file"),
    ("fifo-for-lock", _fifo("decide.lock"), "decide.lock is not a regular file"),
    ("postgres-without-url", _postgres_marker, "KEVOLVE_DATABASE_URL"),
    ("foreign-constructor", _foreign_constructor, "its checkpoints"),
    ("invalid-task", _invalid_task, "its task.json"),
    ("garbage-decisions", _garbage_decisions, "its decisions.jsonl"),
]


def damaged_runs(runs: Path) -> dict[str, str]:
    """Beside the healthy run, one damaged copy per case: {run id: what its reason must name}."""
    expected = {}
    for case, damage, reason in DAMAGES:
        damage(copy_run(runs, f"zz-{case}"))
        expected[f"zz-{case}"] = reason
    return expected
