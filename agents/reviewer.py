"""The reviewer: refuses a candidate before any device time is spent on it.

The deterministic review always runs first: the source parses, defines `ModelNew`, and passes the
harness's static checks for the task's policy and precision regime. Only then, with an LLM, a reading for what rules
cannot see (a fallback on some path, timer games, unreadable code).
"""

from __future__ import annotations

import ast
import logging

from pydantic import BaseModel, ConfigDict

from kevolve.eval_harness.results import CheckFinding, ErrorKind, Severity
from kevolve.eval_harness.settings import Policy
from kevolve.eval_harness.static_checks import SYNTAX_RULE, check_source
from kevolve.tools.candidates import Plan, ReviewVerdict, TaskView
from kevolve.tools.llm.base import MalformedReply, RoleLLM, TokenUsage

from .prompt_budget import budget_for, fit_messages
from .prompt_cuts import middle_lines, reference_source

logger = logging.getLogger(__name__)

# The candidate before the reference: the task outranks any one attempt at it (and what the static
# checks saw in the whole source is listed apart, whatever the model is shown of it).
REVIEWER_CUTS = (middle_lines("candidate source", "source"), reference_source())


class ReviewRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    task: TaskView
    source: str
    plan: Plan


def _describe(finding: CheckFinding) -> str:
    where = f" (line {finding.line})" if finding.line is not None else ""
    return f"{finding.rule}: {finding.reason}{where}"


def _defines_model_new(source: str) -> bool:
    return any(isinstance(node, ast.ClassDef) and node.name == "ModelNew" for node in ast.parse(source).body)


def static_review(task: TaskView, source: str) -> tuple[list[str], list[str]]:
    """(reasons to refuse, warnings for a reader) from the source alone."""
    findings = check_source(source, policy=Policy(task.policy), math=task.math)
    errors = [_describe(f) for f in findings if f.severity is Severity.ERROR]
    warnings = [_describe(f) for f in findings if f.severity is Severity.WARNING]
    parses = not any(f.rule == SYNTAX_RULE for f in findings)
    if parses and not _defines_model_new(source):
        errors.insert(0, f"{ErrorKind.MISSING_MODEL_NEW.value}: the module defines no top-level class ModelNew")
    return errors, warnings


def review_candidate(request: ReviewRequest, llm: RoleLLM | None) -> tuple[ReviewVerdict, TokenUsage]:
    reasons, warnings = static_review(request.task, request.source)
    if reasons or llm is None:
        return ReviewVerdict(approved=not reasons, reasons=reasons), TokenUsage()
    variables = dict(task=request.task, plan=request.plan, source=request.source, warnings=warnings)
    prompt, _ = fit_messages("reviewer", variables, REVIEWER_CUTS, budget_for(llm))
    try:
        verdict, usage = llm.structured(ReviewVerdict, prompt)
    except MalformedReply as exc:
        # The harness's static and dynamic checks are the real gate; the model's reading only spares
        # device time. A reply we cannot read is therefore no objection, not a refusal that would
        # cost the search a correct candidate.
        logger.warning("reviewer: malformed reply, treated as no objection: %s", exc)
        return ReviewVerdict(approved=True), exc.usage
    concrete = [reason.strip() for reason in verdict.reasons if reason.strip()]
    if verdict.approved or not concrete:
        # A refusal must say what is wrong, so the coder can fix it and a person can check it;
        # one without a reason is a model hedging, and counts as approval.
        return ReviewVerdict(approved=True), usage
    return ReviewVerdict(approved=False, reasons=concrete), usage
