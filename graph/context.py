"""What the nodes are given besides the state: the run's folder and the services they call.

Passed as LangGraph's run context (`context_schema`), never through the state: services hold
processes, connections and locks, which are neither serializable nor part of what a run learned.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from kevolve.agents.coder import SeedCandidates
from kevolve.tools.evaluation_pool import EvaluationPool
from kevolve.tools.knowledge.base import KnowledgeBase
from kevolve.tools.llm.base import LLMProvider
from kevolve.tools.offline.engine import OfflineEngine

from .run_directory import RunDirectory


@dataclass
class RunServices:
    pool: EvaluationPool
    llm: LLMProvider | None = None  # None: every role runs its offline policy
    knowledge: KnowledgeBase | None = None
    seeds: SeedCandidates | None = None
    offline: OfflineEngine | None = None  # None: no candidates generated from the traced reference
    # Set from another thread (the chat's "stop"): every device stops after the round in flight.
    stop_requested: threading.Event = field(default_factory=threading.Event)


@dataclass
class RunContext:
    run: RunDirectory
    services: RunServices
    library: Path  # where approved kernels are written
