"""The LangChain tools a tool-calling agent (and `kevolve chat`) may call: evaluate, profile, search, look up.

Each tool's description and argument descriptions are all the model reads about it. A failure the
model can act on (a device that cannot serve, a problem that does not exist, a knowledge base that
is down, arguments that do not validate) comes back as the tool's text result, not as an exception
that would end the agent's turn.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field, ValidationError

from kevolve.eval_harness.problem import Problem, ProblemLoadError
from kevolve.eval_harness.profile_summary import render_profile_summary
from kevolve.eval_harness.results import EvalResult
from kevolve.eval_harness.worker_client import WorkerUnavailable
from kevolve.hardware_specs.spec import (
    AmbiguousHardwareSpec,
    HardwareSpec,
    UnknownHardwareSpec,
    Vendor,
    all_specs,
    load_spec,
    spec_for_device_name,
)
from kevolve.tools.candidates import KernelLanguage, Outcome

from .evaluation_pool import EvaluationPool
from .knowledge.base import KnowledgeBase
from .knowledge.models import SearchFilters
from .knowledge.prompt_context import format_for_prompt

_TORCH_DEVICE = re.compile(r"^(cpu|cuda)(:\d+)?$")

ProblemLookup = Callable[[str], Problem]


@dataclass(frozen=True)
class ToolContext:
    """What the tools act on, built once by their caller (a search or `kevolve chat`)."""

    pool: EvaluationPool
    # The task's one problem, or a lookup by name that raises LookupError or ProblemLoadError for an unknown name.
    problems: Problem | ProblemLookup
    knowledge: KnowledgeBase | None
    default_device: str


class _CandidateArgs(BaseModel):
    source: str = Field(description="the candidate's complete Python source: imports, kernels and class ModelNew")
    device: str | None = Field(default=None, description="torch device such as cuda:0; omit for the task's device")
    problem: str | None = Field(default=None, description="the problem's name; omit for the task's problem")


class _KnowledgeArgs(BaseModel):
    query: str = Field(description="what you want to know, e.g. 'softmax over long rows, memory-bound, two passes'")
    device: str | None = Field(
        default=None,
        description="only passages about this device's architecture: a hardware spec name (h100_sxm) or a torch "
                    "device (cuda:0); omit to search everything, general guides included",
    )
    dsl: KernelLanguage | None = Field(default=None, description="only passages specific to this kernel language")
    limit: int = Field(default=5, ge=1, le=20, description="how many passages at most")


class _HardwareArgs(BaseModel):
    name_or_device: str = Field(
        description="a hardware spec name (h100_sxm), a GPU's name (NVIDIA H100 80GB HBM3) or a torch device (cuda:0)"
    )


def _problem(context: ToolContext, name: str | None) -> Problem:
    if isinstance(context.problems, Problem):
        if name not in (None, context.problems.name):
            raise ToolException(f"this session works on problem {context.problems.name!r} only, not {name!r}")
        return context.problems
    if name is None:
        raise ToolException("name the problem to evaluate against (argument `problem`)")
    try:
        return context.problems(name)
    except (LookupError, ProblemLoadError) as exc:
        raise ToolException(f"no problem {name!r}: {exc}") from None


def _run(context: ToolContext, source: str, device: str | None, problem: str | None) -> EvalResult:
    target = device or context.default_device
    try:
        return context.pool.evaluate(_problem(context, problem), target, source)
    except WorkerUnavailable as exc:
        raise ToolException(f"device {target!r} cannot evaluate candidates: {exc}") from None


def _evaluate_candidate(context: ToolContext, source: str, device: str | None = None,
                        problem: str | None = None) -> dict[str, Any]:
    """Compile, check and time a candidate against the reference, as the harness judges every candidate.

    Returns the verdict: status (correct, incorrect, error), accepted, the error kind and message when
    it failed, speedups over eager PyTorch and torch.compile, % of the speed-of-light floor, and flags.
    """
    result = _run(context, source, device, problem)
    summary = Outcome.from_result(result).model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    if result.environment is not None and not result.environment.timing_meaningful:
        summary["note"] = "timings on this device are not meaningful (CPU interpreter): correctness only"
    return summary


def _profile_candidate(context: ToolContext, source: str, device: str | None = None,
                       problem: str | None = None) -> str:
    """Evaluate a candidate and report where its time goes: timings against the baselines, the
    speed-of-light floor and whether it is memory- or compute-bound, and its kernels' launches and shares.
    For an error's message, use evaluate_candidate.
    """
    if not context.pool.settings.profile:
        raise ToolException("profiling is off in this run's evaluation settings; evaluate_candidate gives the verdict")
    return render_profile_summary(_run(context, source, device, problem))


def _resolve_spec(context: ToolContext, text: str) -> HardwareSpec:
    try:
        return load_spec(text)
    except UnknownHardwareSpec:
        pass
    if _TORCH_DEVICE.match(text):
        try:
            environment = context.pool.environment(text)
        except WorkerUnavailable as exc:
            raise ToolException(f"cannot reach device {text!r}: {exc}") from None
        if environment.hardware_spec is None:
            raise ToolException(environment.note or f"{text} ({environment.device_name}) has no hardware spec")
        return load_spec(environment.hardware_spec)
    try:
        spec = spec_for_device_name(text)
    except AmbiguousHardwareSpec as exc:
        raise ToolException(str(exc)) from None
    if spec is None:
        known = ", ".join(s.name for s in all_specs())
        raise ToolException(f"no hardware spec matches {text!r}; known specs: {known}")
    return spec


def _retrieve_knowledge(context: ToolContext, query: str, device: str | None = None,
                        dsl: KernelLanguage | None = None, limit: int = 5) -> str:
    """Search the knowledge base (hardware guides, and what past searches learned worked or failed)
    and return the best passages, numbered with their sources so you can cite them as [n].
    """
    if context.knowledge is None:
        return "no knowledge base configured"
    filters = SearchFilters(architecture=_resolve_spec(context, device).architecture if device else None,
                            dsl=dsl.value if dsl else None)
    try:
        hits = context.knowledge.search(query, filters=filters, limit=limit)
    except Exception as exc:  # each backend raises its own client's errors (LanceDB, Weaviate, HTTP)
        raise ToolException(f"the knowledge base could not be searched: {exc}") from None
    return format_for_prompt(hits)


def _peaks(table: dict) -> str:
    return ", ".join(f"{dtype} {value:g}" for dtype, value in table.items()) or "none listed"


def _lookup_hardware(context: ToolContext, name_or_device: str) -> str:
    """A device's datasheet figures: memory bandwidth, dense peak TFLOP/s per dtype, SM count, L2 cache,
    shared memory and registers. Unknown names get the list of known hardware specs.
    """
    spec = _resolve_spec(context, name_or_device)
    target = f"compute capability {spec.compute_capability}" if spec.compute_capability else spec.gfx_target
    heading = f"{spec.display_name} ({spec.name}): {spec.vendor.value} {spec.architecture}"
    units = "CUs" if spec.vendor is Vendor.AMD else "SMs"
    lines = [
        heading + (f", {target}" if target else ""),
        f"memory: {spec.memory_gib:g} GiB at {spec.memory_bandwidth_gbps:g} GB/s",
        f"dense peak TFLOP/s (int8: TOP/s), tensor units: {_peaks(spec.peak_dense.tensor_tflops)}",
        f"dense peak TFLOP/s, vector units: {_peaks(spec.peak_dense.vector_tflops)}",
        f"{spec.sm_count} {units}, warp size {spec.warp_size}, L2 {spec.l2_cache_bytes / 2**20:g} MiB",
        f"shared memory {spec.shared_memory_per_sm_bytes / 1024:g} KiB per {units[:-1]}, "
        f"{spec.shared_memory_per_block_bytes / 1024:g} KiB per block at most; "
        f"{spec.registers_per_sm} registers and {spec.max_threads_per_sm} threads per {units[:-1]}",
    ]
    if spec.clock_notes:
        lines.append(f"clocks: {spec.clock_notes}")
    if not spec.timing_meaningful:
        lines.append("placeholder figures: no timing on this target means anything")
    return "\n".join(lines)


def _validation_message(error: ValidationError) -> str:
    return "invalid arguments: " + "; ".join(
        f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}" for issue in error.errors()
    )


def _tool(function: Callable[..., Any], schema: type[BaseModel], context: ToolContext) -> StructuredTool:
    return StructuredTool.from_function(
        func=functools.partial(function, context),
        name=function.__name__.removeprefix("_"),
        description=inspect.cleandoc(function.__doc__ or ""),
        args_schema=schema,
        handle_tool_error=True,
        handle_validation_error=_validation_message,
    )


def make_agent_tools(context: ToolContext) -> list[BaseTool]:
    return [
        _tool(_evaluate_candidate, _CandidateArgs, context),
        _tool(_profile_candidate, _CandidateArgs, context),
        _tool(_retrieve_knowledge, _KnowledgeArgs, context),
        _tool(_lookup_hardware, _HardwareArgs, context),
    ]
