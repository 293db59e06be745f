"""Shared pieces of the static-check tests.

Snippets are appended to PRELUDE, a module with one launched Triton kernel (so that `no_custom_kernel` stays
quiet unless a test wants it). A line ending in `# <-` (`// <-` in C++) is where the rule under test must report,
and nowhere else.
"""

import textwrap

from kevolve.eval_harness.results import CheckFinding, Severity

PRELUDE = '''\
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


def launch(x):
    y = torch.empty_like(x)
    _copy_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
    return y
'''
MARKS = ("# <-", "// <-")
E, W = Severity.ERROR, Severity.WARNING


def compose(body: str, *, prelude: bool = True) -> str:
    return (PRELUDE if prelude else "") + textwrap.dedent(body)


def marked_lines(source: str) -> set[int]:
    return {number for number, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith(MARKS)}


def of_rule(findings: list[CheckFinding], rule: str) -> list[CheckFinding]:
    return [f for f in findings if f.rule == rule]


def errors(findings: list[CheckFinding]) -> list[CheckFinding]:
    return [f for f in findings if f.severity is Severity.ERROR]

