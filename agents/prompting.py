"""Renders the roles' prompt files, `prompts/<name>.j2`, into chat messages.

Templates are package data read through importlib.resources, so they load the same from a
checkout, an editable install or a wheel. StrictUndefined makes a variable the caller forgot an
error naming it, instead of an empty hole in a prompt that nobody reads.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import jinja2
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

_PROMPTS = files("kevolve.agents") / "prompts"


def _template_source(name: str) -> str | None:
    resource = _PROMPTS / name
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


# Prompts are plain text for a model, not HTML: escaping would corrupt the code they quote. An
# included section keeps its final newline so the blank line after an include separates sections.
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FunctionLoader(_template_source),
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(name: str, **variables: Any) -> str:
    """One template, `prompts/<name>.j2`; raises jinja2.UndefinedError naming a missing variable."""
    try:
        return _ENVIRONMENT.get_template(f"{name}.j2").render(**variables).strip()
    except jinja2.UndefinedError as exc:
        raise jinja2.UndefinedError(f"prompt {name}.j2: {exc.message}") from exc


def messages(role_name: str, **variables: Any) -> list[BaseMessage]:
    """The role's system and user messages, both rendered from the same variables."""
    return [
        SystemMessage(content=render(f"{role_name}_system", **variables)),
        HumanMessage(content=render(f"{role_name}_user", **variables)),
    ]
