"""A run's folder: the checkpoint database, the candidates' sources and their full evaluations.

    <runs root>/<run id>/
        task.json            the TaskSpec the run was started with
        checkpoints.sqlite   LangGraph's checkpoints (the search tree as it grows)
        checkpoints.postgres present instead when they live in PostgreSQL (KEVOLVE_DATABASE_URL): a
                             team's runs, resumable and reviewable from any host that has the URL
        candidates/<node>.py every candidate's source, as the coder wrote it
        evaluations/<node>.json  the harness's full EvalResult for it
        summary.md           written when the run ends
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from kevolve.eval_harness.results import EvalResult
from kevolve.tools.kernel_library.records import mark_library
from kevolve.tools.safe_names import checked_name, slug

from .database import DATABASE_URL_VARIABLE, DatabaseUnavailable, connect_postgres, database_url
from .state import TaskSpec

TASK_FILE = "task.json"
CHECKPOINTS_FILE = "checkpoints.sqlite"
POSTGRES_MARKER = "checkpoints.postgres"
_SETUP_LOCK = 0x6B65766F  # any fixed 64-bit key: "kevo"


class RunNotFound(LookupError):
    """A run id or folder that does not hold a run."""


def new_run_id(problem_name: str, *, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return checked_name("run id", f"{stamp}-{slug(problem_name)[:150]}".rstrip("-"))


def device_slug(device: str) -> str:
    """`cuda:0` -> `cuda0`: device names become parts of node ids and file names."""
    return re.sub(r"[^A-Za-z0-9]+", "", device)


class RunDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, runs_root: Path, task: TaskSpec, *, postgres_checkpoints: bool = False) -> RunDirectory:
        # Checked at the start, not at approval: the problem's name names its folder in the library.
        checked_name("problem name", task.problem_name)
        run = cls(runs_root / checked_name("run id", task.run_id))
        if task.sources.library:
            # Named by the command starting the run, so trusted now; later, only the mark says so (run_library).
            mark_library(Path(task.sources.library))
        (run.path / "candidates").mkdir(parents=True, exist_ok=False)
        (run.path / "evaluations").mkdir()
        if postgres_checkpoints:
            (run.path / POSTGRES_MARKER).write_text("this run's checkpoints are in PostgreSQL (KEVOLVE_DATABASE_URL)\n")
        (run.path / TASK_FILE).write_text(task.model_dump_json(indent=2))
        return run

    @classmethod
    def open(cls, runs_root: Path, run: str) -> RunDirectory:
        """`run` is a run id under `runs_root` or a path to a run folder."""
        for candidate in (Path(run), runs_root / run):
            if (candidate / TASK_FILE).is_file():
                return cls(candidate)
        raise RunNotFound(f"no run {run!r} (looked in {runs_root} and at {Path(run).resolve()})")

    @property
    def run_id(self) -> str:
        return self.path.name

    def task(self) -> TaskSpec:
        """The task as its file says; raises UnsafeName for a problem name that could not name a file."""
        task = TaskSpec.model_validate_json((self.path / TASK_FILE).read_text())
        checked_name("problem name", task.problem_name)
        return task

    def thread_config(self) -> dict:
        return {"configurable": {"thread_id": self.run_id}}

    def write_source(self, node_id: str, source: str) -> str:
        relative = f"candidates/{checked_name('node id', node_id)}.py"
        (self.path / relative).write_text(source)
        return relative

    def write_evaluation(self, node_id: str, result: EvalResult) -> str:
        relative = f"evaluations/{checked_name('node id', node_id)}.json"
        (self.path / relative).write_text(result.model_dump_json(indent=1))
        return relative

    def read_text(self, relative: str) -> str:
        """A file of the run named by a path its checkpoints hold: each part must be a safe name (no `..`)."""
        parts = PurePosixPath(relative).parts
        for part in parts or ("",):
            checked_name("run file", part)
        return self.path.joinpath(*parts).read_text()

    def read_evaluation(self, relative: str) -> EvalResult:
        return EvalResult.model_validate_json(self.read_text(relative))

    def write_summary(self, text: str) -> Path:
        summary = self.path / "summary.md"
        summary.write_text(text)
        return summary

    def checkpointer(self) -> BaseCheckpointSaver:
        """Checkpoints that deserialize only kevolve's own state models (see `_serializer`): SQLite in the
        folder, or PostgreSQL for a run created with `postgres_checkpoints`. Both savers have `.conn`."""
        if (self.path / POSTGRES_MARKER).is_file():
            return _postgres_saver(self.run_id)
        connection = sqlite3.connect(self.path / CHECKPOINTS_FILE, check_same_thread=False)
        return SqliteSaver(connection, serde=_serializer())


def list_runs(runs_root: Path) -> list[RunDirectory]:
    if not runs_root.is_dir():
        return []
    return [RunDirectory(path) for path in sorted(runs_root.iterdir()) if (path / TASK_FILE).is_file()]


def _postgres_saver(run_id: str) -> BaseCheckpointSaver:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    url = database_url()
    if url is None:
        raise DatabaseUnavailable(f"run {run_id} keeps its checkpoints in PostgreSQL: set {DATABASE_URL_VARIABLE}")
    # prepare_threshold=0: prepared statements do not survive a connection pooler such as PgBouncer.
    connection = connect_postgres(url, prepare_threshold=0, row_factory=dict_row)
    saver = PostgresSaver(connection, serde=_serializer())
    # setup() creates or migrates LangGraph's tables; runs opening at once (a campaign's threads, other
    # hosts) would race to insert the same migration rows, so one at a time under an advisory lock.
    connection.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
    try:
        saver.setup()
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
    return saver


def _serializer() -> JsonPlusSerializer:
    # LangGraph reconstructs pydantic values by importing the class a checkpoint names; an allow-list
    # means a tampered database cannot make a resume import anything but these.
    from kevolve.eval_harness import precision, settings
    from kevolve.eval_harness.results import EvalStatus, Tolerance
    from kevolve.hardware_specs.dtypes import DType
    from kevolve.tools import candidates
    from kevolve.tools.llm.base import TokenUsage

    from . import configuration, search_tree, state

    allowed = [
        (module.__name__, name)
        for module in (candidates, configuration, search_tree, state, settings, precision)
        for name, value in vars(module).items()
        if isinstance(value, type) and value.__module__ == module.__name__
    ]
    allowed += [(cls.__module__, cls.__name__) for cls in (EvalStatus, Tolerance, TokenUsage, DType)]
    # Runs checkpointed before DType moved to hardware_specs/dtypes.py name it by its earlier homes.
    allowed += [(settings.__name__, "DType"), (precision.__name__, "DType")]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)
