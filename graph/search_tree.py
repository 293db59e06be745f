"""One device's search: its tree of candidates, its progress, and why it stopped."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from kevolve.tools.candidates import SearchNode


class StopReason(StrEnum):
    PLATEAU = "plateau"  # no gain above min_gain for `patience` rounds
    MAX_ROUNDS = "max_rounds"
    WALL_TIME = "wall_time"
    TOKENS = "tokens"
    MONEY = "money"
    TARGET_SPEEDUP = "target_speedup"
    TARGET_LIGHT = "target_percent_of_light"
    NO_PROPOSALS = "no_proposals"  # the planner or coder had nothing left to try
    STOPPED_BY_USER = "stopped_by_user"
    CAMPAIGN_BUDGET = "campaign_budget"  # the campaign's budget, or this problem's share of it, is spent
    LOW_EXPECTED_GAIN = "low_expected_gain"  # the campaign expects too little gain per dollar from more rounds


class ApprovalState(StrEnum):
    NOT_ASKED = "not_asked"
    APPROVED = "approved"
    AUTO_APPROVED = "auto_approved"  # --auto-approve: recorded, nobody looked
    REJECTED = "rejected"
    NOTHING_TO_APPROVE = "nothing_to_approve"  # the search found no accepted candidate
    NOT_FASTER = "not_faster"  # --auto-approve declined: the best is not faster than every baseline


class DeviceSearch(BaseModel):
    """Immutable: every change is a new value, so each checkpoint holds a consistent tree."""

    model_config = ConfigDict(frozen=True)

    device: str
    nodes: dict[str, SearchNode] = Field(default_factory=dict)
    rounds: int = 0
    best_history: list[float] = Field(default_factory=list, description="best fitness after each round")
    rounds_without_gain: int = 0
    failed_strategies: list[str] = Field(default_factory=list)
    guidance: list[str] = Field(default_factory=list, description="reviewers' comments on rejected kernels")
    rejected: list[str] = Field(default_factory=list, description="node ids a person rejected: never offered again")
    extra_rounds: int = Field(default=0, description="rounds granted beyond the budget by rejections")
    stop: StopReason | None = None
    approval: ApprovalState = ApprovalState.NOT_ASKED
    approved_node: str | None = None

    @property
    def active(self) -> bool:
        return self.stop is None

    @property
    def best(self) -> SearchNode | None:
        """The accepted node with the highest fitness; the earliest wins a tie (it was verified first)."""
        accepted = [node for node in self.nodes.values() if node.accepted and node.id not in self.rejected]
        return max(accepted, key=lambda node: (node.fitness, -node.round)) if accepted else None

    def children_of(self, node_id: str) -> list[SearchNode]:
        return [node for node in self.nodes.values() if node_id in node.plan.parent_ids]
