"""Reads the C++ / CUDA text a candidate passes to load_inline: kernels, ATen calls, downcasts.

Regular expressions over comment-stripped text, not a C++ parser: enough to find `__global__`
kernels and `torch::` / `at::` calls, which is what the rules need.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from . import names as n

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_LAUNCH_BOUNDS = re.compile(r"__launch_bounds__\s*\([^)]*\)")
_GLOBAL = re.compile(r"__global__\s+(?:[\w:<>,\s*&]+?\s+)?(\w+)\s*\(")
_ATEN_CALL = re.compile(r"\b(?:torch|at)::((?:\w+::)*\w+)\s*(?:<[^<>()]*>)?\s*\(")
_METHOD_CALL = re.compile(r"[\w)\]]\s*(?:\.|->)\s*(\w+)\s*\(")


@dataclass(frozen=True)
class Match:
    text: str  # the name matched
    line: int  # in the candidate's Python file


@dataclass(frozen=True)
class Source:
    """One piece of source text with comments blanked (newlines kept, so lines still count)."""

    text: str
    line: int  # where the string literal starts in the candidate's file

    @classmethod
    def of(cls, text: str, line: int) -> Source:
        return cls(_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text), line)

    def line_at(self, offset: int) -> int:
        return self.line + self.text.count("\n", 0, offset)

    def find(self, pattern: re.Pattern[str]) -> Iterator[Match]:
        for m in pattern.finditer(self.text):
            yield Match(m.group(1), self.line_at(m.start()))


def sources(pieces: tuple[tuple[str, int], ...]) -> list[Source]:
    return [Source.of(text, line) for text, line in pieces]


def global_kernels(srcs: list[Source]) -> list[Match]:
    found = []
    for src in srcs:
        stripped = Source(_LAUNCH_BOUNDS.sub(lambda m: " " * len(m.group(0)), src.text), src.line)
        found.extend(stripped.find(_GLOBAL))
    return found


def is_referenced(name: str, srcs: list[Source]) -> bool:
    """Whether a kernel's name appears beyond its definition (a `<<<...>>>` launch, a function pointer)."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return sum(len(pattern.findall(src.text)) for src in srcs) > 1


def aten_calls(srcs: list[Source]) -> Iterator[Match]:
    """`torch::x(` / `at::x(` calls, canonicalised to `torch.x`, beyond allocation and stream access."""
    for src in srcs:
        for match in src.find(_ATEN_CALL):
            if match.text not in n.CPP_ALLOWED:
                yield Match("torch." + match.text.replace("::", "."), match.line)


def method_calls(srcs: list[Source]) -> Iterator[Match]:
    for src in srcs:
        yield from src.find(_METHOD_CALL)


def downcasts(srcs: list[Source]) -> Iterator[Match]:
    yield from search(srcs, n.CUDA_DOWNCAST_PATTERN)


def search(srcs: list[Source], pattern: str) -> Iterator[Match]:
    """Matches of a pattern with one group (the name reported) in every source."""
    compiled = re.compile(pattern)
    for src in srcs:
        yield from src.find(compiled)
