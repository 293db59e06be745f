"""How a search runs: selection, stopping rules, budgets, approval. One typed object per run."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Selection(StrEnum):
    GREEDY = "greedy"  # always build on the best node
    BEAM = "beam"  # build on the best `beam_width` nodes
    UCT = "uct"  # upper confidence bound over the tree: exploit good subtrees, visit rarely tried ones
    EVOLUTIONARY = "evolutionary"  # tournament selection from the accepted population


class Budget(BaseModel):
    """Per device: rounds. Per task: wall time, tokens and money. None means unbounded."""

    model_config = ConfigDict(frozen=True)

    max_rounds: int | None = Field(default=10, ge=1)
    wall_seconds: float | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0)


class Targets(BaseModel):
    """A device stops early once its best candidate meets either target."""

    model_config = ConfigDict(frozen=True)

    speedup: float | None = Field(default=None, gt=0, description="over the faster baseline")
    percent_of_light: float | None = Field(default=None, gt=0, le=100)


class SearchSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    selection: Selection = Selection.GREEDY
    beam_width: int = Field(default=3, ge=1)
    uct_exploration: float = Field(default=1.4, ge=0)
    tournament_size: int = Field(default=3, ge=2)
    candidates_per_round: int = Field(default=1, ge=1, description="per device")
    llm_concurrency: int = Field(default=4, ge=1, description="LLM calls in flight at once")
    min_gain: float = Field(default=0.02, ge=0, description="relative fitness gain that counts as progress")
    patience: int = Field(default=3, ge=1, description="rounds without progress before a device stops")
    max_repairs: int = Field(default=2, ge=0, description="repairs of one failing lineage before giving up on it")
    budget: Budget = Budget()
    targets: Targets = Targets()
    auto_approve: bool = Field(default=False, description="record the best kernel without a person (unattended)")
    seed: int = Field(default=0, description="for the stochastic selection policies")
