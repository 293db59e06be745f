"""Runs a policy's preset of rules over a candidate's source and returns the findings."""

from __future__ import annotations

import ast

from ..precision import MathMode, Precision, resolve
from ..results import CheckFinding, Severity
from ..settings import Policy
from .analysis import analyse
from .presets import PRESETS
from .registry import RULES, CheckContext

SYNTAX_RULE = "syntax"


def check_source(source: str, *, policy: Policy, math: MathMode | None = None) -> list[CheckFinding]:
    """Every finding of the policy's rules in the regime `math` (None: `exact`), ordered by line; a source that
    does not parse gives one."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [_syntax_finding(f"the source does not parse: {exc.msg}", exc.lineno)]
    except (ValueError, RecursionError) as exc:  # null bytes; nesting deeper than the parser's stack
        return [_syntax_finding(f"the source cannot be parsed: {exc}", None)]
    try:
        facts = analyse(tree, source)
    except RecursionError:
        return [_syntax_finding("the source is nested too deeply to analyse", None)]
    preset = PRESETS[policy]
    context = CheckContext(math=math or resolve(Precision.EXACT), allow_vendor_heavy=preset.allow_vendor_heavy)
    findings: dict[tuple[str, int, str], CheckFinding] = {}
    for name, severity in preset.severities.items():
        for hit in RULES[name].check(facts, context):
            key = (name, hit.line, hit.reason)
            findings.setdefault(key, CheckFinding(rule=name, severity=severity, reason=hit.reason, line=hit.line))
    return sorted(findings.values(), key=lambda f: (f.line or 0, f.rule))


def _syntax_finding(reason: str, line: int | None) -> CheckFinding:
    return CheckFinding(rule=SYNTAX_RULE, severity=Severity.ERROR, reason=reason, line=line)
