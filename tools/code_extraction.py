"""The Python module in an LLM's reply, whatever the reply wraps it in."""

from __future__ import annotations

import ast
import re
import textwrap

_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+.-]*)")
_PYTHON_TAGS = {"python", "py", "python3", ""}
_CODE_START = re.compile(r"^(import |from \S+ import |@|class |def |async def )")
_MODEL_CLASS = re.compile(r"^class ModelNew\b", re.MULTILINE)


def extract_python_source(reply: str) -> str | None:
    """The module defining `class ModelNew` if the reply has one, else its longest Python code; None if no code.

    Reasoning in `<think>` blocks is dropped first. Among fenced blocks (``` or ~~~; tagged python or
    py, or untagged if they parse or define ModelNew), the last that defines ModelNew wins (a model
    that corrects itself writes the correction last), else the longest. A fence left open (the reply
    hit the token limit) runs to the end. Without a Python block, the code starts at the first
    import, decorator, class or def line, and prose after it is dropped.
    """
    text = _THINKING.sub("", reply)
    # Some chat templates open the reasoning block in the prompt, so only its end is in the reply.
    text = text.rsplit("</think>", 1)[-1]
    blocks = _fenced_blocks(text)
    if blocks:
        python = [body for tag, body in blocks if tag in _PYTHON_TAGS
                  and (tag or _parses(body) or _MODEL_CLASS.search(body))]
        with_model = [body for body in python if _MODEL_CLASS.search(body)]
        chosen = with_model[-1] if with_model else max(python, key=len, default=None)
        if chosen:
            return _finished(chosen)
    return _unfenced(text)


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, body) of each fenced block, in order; an unclosed fence runs to the end."""
    blocks, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        index += 1
        if opening is None:
            continue
        fence, tag = opening.groups()
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body_start = index
        while index < len(lines) and not closing.match(lines[index]):
            index += 1
        blocks.append((tag.lower(), textwrap.dedent("\n".join(lines[body_start:index]))))
        index += 1
    return blocks


def _unfenced(text: str) -> str | None:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _CODE_START.match(line)), None)
    if start is None:
        return None
    lines = lines[start:]
    whole = "\n".join(lines)
    if _parses(whole):
        return _finished(whole)
    if not _MODEL_CLASS.search(whole):
        return None
    # Prose after the code (an explanation) is dropped: the longest prefix that parses is the module.
    for end in range(len(lines) - 1, 0, -1):
        candidate = "\n".join(lines[:end])
        if _MODEL_CLASS.search(candidate) and _parses(candidate):
            return _finished(candidate)
    return _finished(whole)  # cut off by the token limit: the harness reports its syntax error


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a null byte in the source
        return False
    return True


def _finished(source: str) -> str | None:
    source = source.strip("\n")
    return source + "\n" if source.strip() else None
