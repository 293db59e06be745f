"""Characters that change what a reader sees without changing what runs.

Bidirectional controls reorder the text around them (Trojan Source, CVE-2021-42574: a comment that
displays as code, code that displays as a comment); invisible characters hide in names and strings;
control characters (ESC and friends) rewrite a terminal. The static check refuses a candidate holding
any of them, and every place a person reads a source or a name shows them as `<U+202E>` markers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

# unicodedata.bidirectional() classes of the embedding, override and isolate controls.
_BIDI_CLASSES = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
# Letters (category Lo) that render as blank space: usable as invisible identifiers.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# Plain ASCII text needs no per-character look-up: only its control codes can hide anything. A carriage
# return is one only alone (a CRLF line ending is harmless; alone it sends the terminal's cursor back).
_ASCII_HIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")


class HiddenKind(StrEnum):
    BIDI = "bidirectional control"
    INVISIBLE = "invisible character"
    CONTROL = "control character"


@dataclass(frozen=True)
class HiddenCharacter:
    line: int  # 1-based, counting only "\n" as Python does
    column: int  # 1-based
    char: str
    kind: HiddenKind

    @property
    def code(self) -> str:
        return code_point(self.char)


def code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def kind_of(char: str) -> HiddenKind | None:
    """What hides in `char`, or None for one that shows as what it is (tab, newline; a carriage return is
    judged where it stands: see `_hidden_here`)."""
    if unicodedata.bidirectional(char) in _BIDI_CLASSES:
        return HiddenKind.BIDI
    category = unicodedata.category(char)
    if category == "Cc":
        return None if char in "\t\n\r" else HiddenKind.CONTROL
    if category in ("Cf", "Zl", "Zp") or char in _BLANK_LETTERS:
        return HiddenKind.INVISIBLE  # Cf holds the bidi marks (U+200E/F, U+061C) and the zero-width ones
    return None


def find_hidden(text: str) -> list[HiddenCharacter]:
    """Every hidden character in `text`, in order."""
    found = []
    for offset in _hidden_offsets(text):
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        char = text[offset]
        found.append(HiddenCharacter(line, column, char, _kind_at(text, offset)))
    return found


def reveal(text: str, mark: Callable[[HiddenCharacter], str] | None = None) -> str:
    """`text` with each hidden character replaced by `mark(it)`, by default a visible `<U+202E>`."""
    offsets = _hidden_offsets(text)
    if not offsets:
        return text
    marker = mark or (lambda hidden: f"<{hidden.code}>")
    parts, start = [], 0
    for offset in offsets:
        char = text[offset]
        parts += [text[start:offset], marker(HiddenCharacter(0, 0, char, _kind_at(text, offset)))]
        start = offset + 1
    parts.append(text[start:])
    return "".join(parts)


def summary(text: str) -> str | None:
    """One line naming the hidden characters of `text` with their counts, or None when it has none."""
    found = find_hidden(text)
    if not found:
        return None
    counts: dict[tuple[str, HiddenKind], int] = {}
    for hidden in found:
        counts[(hidden.code, hidden.kind)] = counts.get((hidden.code, hidden.kind), 0) + 1
    return ", ".join(f"{code} ({kind}) x{count}" for (code, kind), count in counts.items())


def _hidden_offsets(text: str) -> list[int]:
    if text.isascii():
        return [match.start() for match in _ASCII_HIDDEN.finditer(text)]
    return [offset for offset, char in enumerate(text) if _hidden_here(text, offset, char)]


def _hidden_here(text: str, offset: int, char: str) -> bool:
    if char == "\r":
        return not text.startswith("\n", offset + 1)
    return kind_of(char) is not None


def _kind_at(text: str, offset: int) -> HiddenKind:
    return kind_of(text[offset]) or HiddenKind.CONTROL  # only a lone "\r" has no kind of its own
