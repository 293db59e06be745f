"""What several nodes need: the task as the agents see it, retrieval, progress events, fan-out."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from langgraph.config import get_stream_writer

from kevolve.eval_harness.problem import Problem
from kevolve.eval_harness.results import SpeedOfLight
from kevolve.tools.candidates import Role, TaskView
from kevolve.tools.knowledge.base import KnowledgeBaseUnavailable
from kevolve.tools.knowledge.models import SearchFilters
from kevolve.tools.knowledge.prompt_context import format_for_prompt
from kevolve.tools.llm.base import RoleLLM

from ..context import RunContext
from ..state import OptimizeState

logger = logging.getLogger(__name__)

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

KNOWLEDGE_PASSAGES = 4


def problem_of(state: OptimizeState) -> Problem:
    return state["task"].problem()


def task_view(state: OptimizeState, context: RunContext, device: str) -> TaskView:
    """The task on `device`, with the reference's measured baselines and speed of light."""
    task = state["task"]
    problem = problem_of(state)
    reference = context.services.pool.baselines(problem, device)
    environment = reference.environment
    return TaskView(
        problem=task.problem_name,
        reference_source=problem.source,
        device=device,
        device_name=environment.device_name if environment else None,
        hardware_spec=environment.hardware_spec if environment else None,
        policy=task.policy,
        dtype=task.dtype,
        math=task.math,
        speed_of_light=describe_light(reference.speed_of_light),
    )


def describe_light(sol: SpeedOfLight | None) -> str | None:
    if sol is None or sol.floor_ms is None:
        return None
    return (
        f"{sol.bound}-bound; floor {sol.floor_ms:.4g} ms ({sol.bytes / 1e6:.4g} MB at {sol.bandwidth_gbps:g} GB/s, "
        f"{sol.flops / 1e9:.3g} GFLOP at {sol.peak_tflops:g} TFLOP/s)"
    )


def retrieve(context: RunContext, query: str, view: TaskView) -> str:
    """Knowledge-base passages for `query` on the task's device, formatted for a prompt; empty without a base.

    The device goes into the query, not into a filter: a filter on it would drop every general passage
    (those with no device), while in the query it only ranks this device's documents and lessons first.
    """
    knowledge = context.services.knowledge
    if knowledge is None:
        return ""
    device = view.hardware_spec or view.device_name
    try:
        hits = knowledge.search(f"{query} ({device})" if device else query, filters=SearchFilters(),
                                limit=KNOWLEDGE_PASSAGES)
    except KnowledgeBaseUnavailable as error:
        # Retrieval helps a plan; it is not worth stopping a search for.
        logger.warning("knowledge base unavailable, planning without it: %s", error)
        return ""
    return format_for_prompt(hits)


def llm_for(context: RunContext, role: Role) -> RoleLLM | None:
    provider = context.services.llm
    return provider.for_role(role) if provider is not None else None


def report(agent: str, device: str, message: str) -> None:
    """A progress event on the graph's `custom` stream (the CLI's live view and the chat read it)."""
    get_stream_writer()({"agent": agent, "device": device, "message": message})


def fan_out(work: Callable[[ItemT], ResultT], items: Iterable[ItemT], *, workers: int) -> list[ResultT]:
    """`work` over `items` in threads (LLM calls and devices wait on I/O), results in input order."""
    items = list(items)
    if len(items) <= 1 or workers <= 1:
        return [work(item) for item in items]
    # Each thread runs in a copy of this one's context: LangGraph finds the stream writer and the
    # run's config through context variables, which new threads would not otherwise see.
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, work, item) for item in items]
        return [future.result() for future in futures]
