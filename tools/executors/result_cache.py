"""The verdicts already reached, so that no evaluation runs twice, and what makes two evaluations the same.

Two evaluations are the same when the candidate's source, the problem's source, the device (its
hardware spec, or its name when it has none), the software that runs it (torch, Triton, CUDA, the
driver, and the harness's own code) and the evaluation settings are all the same. Only outcomes
that would come out the same again are kept: a timeout, a lost worker, a memory limit or a reference
that failed say more about that moment than about the candidate.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kevolve import eval_harness
from kevolve.eval_harness.problem import Problem, sha256_text
from kevolve.eval_harness.results import Environment, ErrorKind, EvalResult
from kevolve.eval_harness.settings import EvalSettings

logger = logging.getLogger(__name__)

# Outcomes of the moment, not of the candidate: another try may well end otherwise.
_TRANSIENT_ERRORS = frozenset({
    ErrorKind.TIMEOUT,
    ErrorKind.WORKER_CRASHED,
    ErrorKind.HOST_MEMORY_LIMIT,
    ErrorKind.DEVICE_OUT_OF_MEMORY,
    ErrorKind.PROBLEM_INVALID,
})


@functools.cache
def harness_digest() -> str:
    """A hash of the harness's code: a fixed check or a new one must not be bypassed by old verdicts."""
    digest = hashlib.sha256()
    root = Path(eval_harness.__file__).parent
    for path in sorted(root.rglob("*.py")):
        if "problems" not in path.relative_to(root).parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class CacheEntry(BaseModel):
    """What a stored verdict is filed under; `key` is the identity, the rest is for people reading the store."""

    model_config = ConfigDict(frozen=True)

    key: str
    problem: str
    candidate_sha256: str
    device: str


def cache_entry(problem: Problem, source: str, environment: Environment, settings: EvalSettings) -> CacheEntry:
    device = environment.hardware_spec or environment.device_name
    identity = {
        "candidate": sha256_text(source),
        "problem": problem.sha256,
        "device": device,
        # A CPU worker runs the problem's small configuration: not the same evaluation as on a GPU.
        "device_type": environment.device.split(":")[0],
        "torch": environment.torch_version,
        "triton": environment.triton_version,
        "cuda": environment.cuda_version,
        "driver": environment.driver_version,
        "harness": harness_digest(),
        "settings": settings.model_dump(mode="json"),
    }
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return CacheEntry(key=key, problem=problem.name, candidate_sha256=identity["candidate"], device=device)


def is_cacheable(result: EvalResult) -> bool:
    """A verdict on the candidate itself, one another evaluation would reach again."""
    if result.candidate_sha256 is None or result.environment is None:
        return False
    return result.error is None or result.error.kind not in _TRANSIENT_ERRORS


class ResultCache(ABC):
    """A verdict store: the backends differ in where the rows live, not in what they mean."""

    def get(self, entry: CacheEntry) -> EvalResult | None:
        stored = self._fetch(entry.key)
        if stored is None:
            return None
        try:
            result = EvalResult.model_validate_json(stored)
        except ValueError:
            # Written by another version of the results model: evaluating again is the safe answer.
            logger.warning("ignoring an unreadable cached result for %s on %s", entry.problem, entry.device)
            return None
        return result.model_copy(update={"from_cache": True})

    def put(self, entry: CacheEntry, result: EvalResult) -> None:
        """Keeps `result` if it is cacheable; the first verdict stored under a key stays."""
        if is_cacheable(result):
            self._store(entry, result.model_copy(update={"from_cache": False}).model_dump_json(),
                        datetime.now(UTC).isoformat())

    @abstractmethod
    def _fetch(self, key: str) -> str | None: ...

    @abstractmethod
    def _store(self, entry: CacheEntry, result_json: str, created_at: str) -> None: ...

    @abstractmethod
    def count(self) -> int:
        """How many verdicts are stored."""

    @abstractmethod
    def close(self) -> None: ...


# One table, the same in both backends (portable SQL: TEXT columns, a primary key).
CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS kevolve_eval_results ("
    " key TEXT PRIMARY KEY, problem TEXT NOT NULL, candidate_sha256 TEXT NOT NULL,"
    " device TEXT NOT NULL, created_at TEXT NOT NULL, result TEXT NOT NULL)"
)
