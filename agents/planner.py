"""The planner: picks parents and an operator for each next candidate, and says what to try.

With an LLM, its plans are checked against the tree (parents must exist, failed strategies stay
failed); plans it could not ground, or did not give, are replaced by the offline policy's, which
decides from the tree alone: draft, repair, crossover, improve, explore, in that order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from itertools import chain, combinations
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kevolve.tools.candidates import Diagnosis, Operator, Plan, SearchNode, TaskView, normalize_strategy
from kevolve.tools.llm.base import MalformedReply, RoleLLM, TokenUsage

from .prompt_budget import Cut, budget_for, fit_messages
from .prompt_cuts import cut_middle, fewer_items, knowledge_passages, reference_source
from .prose import debris_fields
from .strategies import strategies_for

logger = logging.getLogger(__name__)

# A plan for these operators means nothing without this many existing parents.
_PARENTS_NEEDED = {Operator.REPAIR: 1, Operator.IMPROVE: 1, Operator.CROSSOVER: 2}
# Most of the gap to the speed-of-light floor is rarely closed in one step; expecting more than
# doubling would make every improvement look like a disappointment to the analyst.
_MAX_EXPECTED_GAIN = 2.0
_GAIN_WITHOUT_ROOFLINE = 1.1
_ERROR_CHARS_IN_PLAN = 500


class PlanningRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    task: TaskView
    nodes: list[SearchNode] = Field(description="the device's whole search tree")
    parents: list[SearchNode] = Field(description="the nodes the selection policy chose to build on")
    repairable: list[SearchNode] = Field(description="failed nodes whose lineage may still be repaired")
    failed_strategies: list[str] = Field(default_factory=list)
    guidance: list[str] = Field(default_factory=list, description="people's comments on rejected kernels")
    knowledge: str = ""
    count: int = Field(default=1, ge=1)
    design: str | None = Field(default=None, description="the offline engine's fusion plan for the reference")


class PlannerReply(BaseModel):
    plans: list[Plan] = Field(description="the plans for this round, most promising first")


def _key(plan: Plan) -> tuple[Operator, tuple[str, ...], str]:
    return plan.operator, tuple(sorted(plan.parent_ids)), normalize_strategy(plan.strategy)


def _expected_gain(parent: SearchNode) -> float:
    percent = parent.outcome.percent_of_light if parent.outcome is not None else None
    if not percent:
        return _GAIN_WITHOUT_ROOFLINE
    return max(1.0, min(100.0 / percent, _MAX_EXPECTED_GAIN))


def _repair(node: SearchNode) -> Plan:
    outcome = node.outcome
    kind = (outcome.error_kind if outcome else None) or "failure"
    # The end of a traceback names the failure; the coder is given the whole error anyway.
    error = ((outcome.error_message if outcome else None) or "no error message recorded")[-_ERROR_CHARS_IN_PLAN:]
    return Plan(
        operator=Operator.REPAIR, parent_ids=[node.id], strategy=f"repair {kind}", language=node.plan.language,
        description=f"Fix candidate {node.id}, which failed with {kind}, keeping its approach "
                    f"({node.plan.strategy}). The error:\n{error}",
    )


def _crossover(first: SearchNode, second: SearchNode) -> Plan:
    return Plan(
        operator=Operator.CROSSOVER, parent_ids=[first.id, second.id], expected_gain=_GAIN_WITHOUT_ROOFLINE,
        strategy=f"combine {first.plan.strategy} with {second.plan.strategy}",
        description=f"Start from {first.id} ({first.plan.strategy}) and bring in what makes {second.id} fast "
                    f"({second.plan.strategy}); keep whichever mapping of work to programs is faster.",
    )


def _improve(parent: SearchNode, diagnosis: Diagnosis) -> Plan:
    return Plan(
        operator=Operator.IMPROVE, parent_ids=[parent.id], strategy=f"address {diagnosis.bottleneck}",
        description=f"{diagnosis.guidance} (headroom: {diagnosis.headroom})",
        expected_gain=_expected_gain(parent), language=parent.plan.language,
    )


def _offline_plans(request: PlanningRequest) -> Iterator[Plan]:
    """Every plan the tree suggests, best first; the caller drops those already in the tree."""
    if not request.nodes and request.design:
        yield Plan(operator=Operator.DRAFT, strategy="fused kernels from the traced graph",
                   description=f"Generate from the traced reference: {request.design}")
    if not request.nodes:
        yield Plan(
            operator=Operator.DRAFT, strategy="straightforward port",
            description="Write a correct first kernel for the whole forward: one program per block of the "
                        "output, masked loads and stores, fp32 accumulation; correctness before speed.",
        )
    yield from (_repair(node) for node in request.repairable)
    accepted = [parent for parent in request.parents if parent.accepted]
    crossed = {frozenset(node.plan.parent_ids) for node in request.nodes if node.plan.operator is Operator.CROSSOVER}
    for first, second in combinations(accepted, 2):
        if frozenset((first.id, second.id)) not in crossed:
            yield _crossover(first, second)
    yield from (_improve(parent, parent.diagnosis) for parent in accepted if parent.diagnosis is not None)
    base = max(accepted, key=lambda node: node.fitness, default=None)
    tried = {normalize_strategy(node.plan.strategy) for node in request.nodes}
    for strategy in strategies_for(request.task.reference_source):
        if normalize_strategy(strategy.name) in tried:
            continue
        yield Plan(
            operator=Operator.EXPLORE, parent_ids=[base.id] if base else [], strategy=strategy.name,
            description=strategy.description, language=strategy.language,
            expected_gain=_GAIN_WITHOUT_ROOFLINE if base else 1.0,
        )


def _grounded(plan: Plan, known: set[str]) -> Plan | None:
    """The plan with unknown parents dropped, or None when too few real parents remain for its operator or
    its strategy is not words."""
    if debris_fields(dict(strategy=plan.strategy)):
        logger.info("planner: dropped a plan whose strategy is not words: %r", plan.strategy)
        return None
    parents = [node_id for node_id in dict.fromkeys(plan.parent_ids) if node_id in known]
    if len(parents) < _PARENTS_NEEDED.get(plan.operator, 0):
        logger.info("planner: dropped a %s plan whose parents %s are not in the tree", plan.operator, plan.parent_ids)
        return None
    return plan.model_copy(update={"parent_ids": parents})


def _history_rank(node: SearchNode) -> tuple[float, int, str]:
    # The best first, then the most recent: what the next round builds on, and what it just learned.
    return -node.fitness, -node.round, node.id


def _shorter_error(variables: Mapping[str, Any], excess: int) -> tuple[dict[str, Any], str] | None:
    """Lines from the middle of the longest error of a repairable node that can still lose some."""
    nodes = list(variables["repairable"])
    for index in sorted(range(len(nodes)), key=lambda i: -len(_error_of(nodes[i]))):
        if (cut := cut_middle(_error_of(nodes[index]), excess)) is not None:
            shortened, removed = cut
            outcome = nodes[index].outcome.model_copy(update={"error_message": shortened})
            nodes[index] = nodes[index].model_copy(update={"outcome": outcome})
            return {**variables, "repairable": nodes}, f"{removed} lines from the error of {nodes[index].id}"
    return None


def _error_of(node: SearchNode) -> str:
    return (node.outcome.error_message if node.outcome is not None else None) or ""


# Least important first: the tree's history (the chosen parents are listed apart), the general
# catalogue, retrieved passages; the failures to repair and the reference only lose their middles.
PLANNER_CUTS = (
    fewer_items("search history", "nodes", rank=_history_rank, left_out="history_left_out"),
    fewer_items("strategy catalogue", "strategies"),
    knowledge_passages(),
    Cut("repairable errors", _shorter_error),
    reference_source(),
)


def _llm_plans(request: PlanningRequest, llm: RoleLLM) -> tuple[list[Plan], TokenUsage]:
    variables = dict(
        task=request.task, nodes=request.nodes, parents=request.parents, repairable=request.repairable,
        failed_strategies=request.failed_strategies, guidance=request.guidance, knowledge=request.knowledge,
        count=request.count, strategies=strategies_for(request.task.reference_source), history_left_out=0,
    )
    prompt, _ = fit_messages("planner", variables, PLANNER_CUTS, budget_for(llm))
    try:
        reply, usage = llm.structured(PlannerReply, prompt)
    except MalformedReply as exc:
        # The offline policy makes sound plans from the same tree; a round is not lost to one bad reply.
        logger.warning("planner: malformed reply, planning offline instead: %s", exc)
        return [], exc.usage
    known = {node.id for node in request.nodes}
    return [grounded for plan in reply.plans if (grounded := _grounded(plan, known)) is not None], usage


def plan_candidates(request: PlanningRequest, llm: RoleLLM | None) -> tuple[list[Plan], TokenUsage]:
    """Up to `request.count` distinct plans, none already in the tree or in a failed strategy; [] when
    there is nothing left to try. Raises PromptTooLarge when the model's window cannot hold the cut prompt."""
    proposed, usage = _llm_plans(request, llm) if llm is not None else ([], TokenUsage())
    failed = {normalize_strategy(strategy) for strategy in request.failed_strategies}
    seen = {_key(node.plan) for node in request.nodes}
    plans: list[Plan] = []
    for plan in chain(proposed, _offline_plans(request)):
        if len(plans) == request.count:
            break
        if normalize_strategy(plan.strategy) in failed or _key(plan) in seen:
            continue
        seen.add(_key(plan))
        plans.append(plan)
    return plans, usage
