"""What a campaign's runs share: one evaluation pool (a worker per device, timed), one LLM provider, one
knowledge base, one folder of seeds. Each run gets its own RunServices view of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kevolve.agents.coder import SeedCandidates
from kevolve.tools.evaluation_pool import EvaluationPool
from kevolve.tools.executors import ExecutorSettings
from kevolve.tools.knowledge.base import KnowledgeBase
from kevolve.tools.knowledge.settings import KnowledgeSettings
from kevolve.tools.llm.base import LLMProvider
from kevolve.tools.llm.factory import make_llm_provider
from kevolve.tools.llm.settings import LLMSettings
from kevolve.tools.offline.engine import OfflineEngine

from ..context import RunServices
from ..services import open_knowledge_with_documents
from .device_clock import DeviceClock, Record
from .spec import CampaignSpec


@dataclass
class CampaignServices:
    clock: DeviceClock
    llm: LLMProvider | None
    knowledge: KnowledgeBase | None
    seeds: SeedCandidates | None
    offline: OfflineEngine | None

    def for_run(self, run_id: str) -> RunServices:
        return RunServices(pool=self.clock.for_run(run_id), llm=self.llm, knowledge=self.knowledge, seeds=self.seeds,
                           offline=self.offline)

    def close(self) -> None:
        self.clock.pool.close()
        if self.knowledge is not None:
            self.knowledge.close()


def open_campaign_services(
    spec: CampaignSpec, *, llm: LLMSettings, knowledge: KnowledgeSettings | None, record: Record,
    executor: ExecutorSettings, cache_dir: Path | None, use_baseline_cache: bool, folder: Path,
) -> CampaignServices:
    """`knowledge` None, or a spec that turns it off: plan without a knowledge base."""
    pool = EvaluationPool(settings=spec.evaluation_settings(), cache_dir=cache_dir,
                          use_baseline_cache=use_baseline_cache, executor=executor)
    return CampaignServices(
        clock=DeviceClock(pool, record),
        llm=make_llm_provider(llm, capabilities_dir=folder),
        knowledge=open_knowledge_with_documents(knowledge) if knowledge is not None and spec.knowledge else None,
        seeds=SeedCandidates(spec.path(spec.seeds)) if spec.seeds else None,
        offline=OfflineEngine() if spec.offline_engine else None,
    )
