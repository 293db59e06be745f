"""Opening and closing a run's services from settings: the one place entry points build them."""

from __future__ import annotations

from pathlib import Path

from kevolve.agents.coder import SeedCandidates
from kevolve.hardware_specs import DOCUMENTS_DIR
from kevolve.tools.evaluation_pool import EvaluationPool
from kevolve.tools.executors import ExecutorSettings
from kevolve.tools.knowledge.base import KnowledgeBase
from kevolve.tools.knowledge.chunking import load_documents
from kevolve.tools.knowledge.factory import open_knowledge_base
from kevolve.tools.knowledge.models import EntryKind
from kevolve.tools.knowledge.settings import KnowledgeSettings
from kevolve.tools.llm.factory import make_llm_provider
from kevolve.tools.llm.settings import LLMSettings
from kevolve.tools.offline.engine import OfflineEngine

from .context import RunServices
from .state import TaskSpec


def open_knowledge_with_documents(settings: KnowledgeSettings) -> KnowledgeBase:
    """The configured base; an empty one is first filled with the shipped hardware documents."""
    knowledge = open_knowledge_base(settings)
    if not knowledge.stats().passages_by_kind.get(EntryKind.DOCUMENT):
        knowledge.add(load_documents(DOCUMENTS_DIR))
    return knowledge


def open_services(
    task: TaskSpec,
    *,
    llm: LLMSettings,
    knowledge: KnowledgeSettings | None,
    transcript: Path | None = None,
    seeds: Path | None = None,
    engine: bool = True,
    cache_dir: Path | None = None,
    use_baseline_cache: bool = True,
    run_dir: Path | None = None,
    executor: ExecutorSettings | None = None,
) -> RunServices:
    """`knowledge` None: plan without a knowledge base. A model's probed capabilities go to `run_dir`.

    `executor`: where candidates are evaluated (local or Ray) and where verdicts are cached; None:
    this machine's devices and its shared results cache.
    """
    return RunServices(
        pool=EvaluationPool(settings=task.evaluation, cache_dir=cache_dir, use_baseline_cache=use_baseline_cache,
                            executor=executor or ExecutorSettings()),
        llm=make_llm_provider(llm, transcript=transcript, capabilities_dir=run_dir),
        knowledge=open_knowledge_with_documents(knowledge) if knowledge is not None else None,
        seeds=SeedCandidates(seeds) if seeds else None,
        offline=OfflineEngine() if engine else None,
    )


def close_services(services: RunServices) -> None:
    services.pool.close()
    if services.knowledge is not None:
        services.knowledge.close()
