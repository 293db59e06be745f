"""Edits to a waiting run's latest checkpoint, as a crafted run folder would hold them: what the approval request
shows (the interrupt's payload) and what the search tree says (the `searches` channel).

Both are rewritten in place with the run's own serializer, so the run reads them back as if it had written them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from kevolve.graph.run_directory import _serializer
from kevolve.graph.search_tree import DeviceSearch

CHECKPOINTS = "checkpoints.sqlite"


def edit_request(run: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Changes the waiting approval request in place (`edit` mutates its JSON form)."""
    serializer = _serializer()
    with closing(sqlite3.connect(run / CHECKPOINTS)) as database:
        kind, blob = database.execute("SELECT type, value FROM writes WHERE channel = '__interrupt__'").fetchone()
        interrupts = serializer.loads_typed((kind, blob))
        for interrupt in interrupts:
            edit(interrupt.value)
        database.execute("UPDATE writes SET type = ?, value = ? WHERE channel = '__interrupt__'",
                         serializer.dumps_typed(interrupts))
        database.commit()


def edit_searches(run: Path, edit: Callable[[dict[str, DeviceSearch]], dict[str, DeviceSearch]]) -> None:
    """Replaces the search trees of the run's latest checkpoint (the one its approval waits in) with edit(them)."""
    serializer = _serializer()
    with closing(sqlite3.connect(run / CHECKPOINTS)) as database:
        checkpoint_id, kind, blob = database.execute(
            "SELECT checkpoint_id, type, checkpoint FROM checkpoints ORDER BY checkpoint_id DESC LIMIT 1").fetchone()
        checkpoint = serializer.loads_typed((kind, blob))
        checkpoint["channel_values"]["searches"] = edit(checkpoint["channel_values"]["searches"])
        database.execute("UPDATE checkpoints SET type = ?, checkpoint = ? WHERE checkpoint_id = ?",
                         (*serializer.dumps_typed(checkpoint), checkpoint_id))
        database.commit()
