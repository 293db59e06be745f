"""Rules about the source's text itself, before any meaning: what a reviewer reads must be what runs."""

from __future__ import annotations

from collections.abc import Iterator

from ..results import Severity
from .facts import Facts
from .hidden_characters import find_hidden
from .registry import CheckContext, Hit, rule


@rule("hidden_characters", Severity.ERROR)
def hidden_characters(facts: Facts, ctx: CheckContext) -> Iterator[Hit]:
    """Bidirectional controls, invisible or control characters anywhere in the source, comments included.

    Trojan Source: a right-to-left override makes a comment display as code and code display as a
    comment, so the kernel a person approves is not the one that runs; a zero-width character makes
    two names that look the same differ. A kernel needs none of them: an escape (`"\\u202e"`) says the same.
    """
    by_line: dict[int, list[str]] = {}
    for hidden in find_hidden(facts.source):
        by_line.setdefault(hidden.line, []).append(f"{hidden.code} ({hidden.kind})")
    for line, found in by_line.items():
        yield Hit(line, f"holds {', '.join(dict.fromkeys(found))}: what a reader sees is not what runs; "
                        "remove it, or write it as an escape in a string")
