"""Keys a spec file names that its models do not have, at any depth, with the closest valid key.

The settings models a spec reads (the search's, the harness's) also load run checkpoints, where an
unknown key must stay harmless; so a spec's typos are caught here, against the models' fields, rather
than by forbidding extra keys on those models for every reader.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel


def unknown_keys(model: type[BaseModel], document: object, where: str = "") -> list[str]:
    """One line per key of `document` that `model` (or a model nested in it) has no field for."""
    if not isinstance(document, dict):
        return []
    fields = model.model_fields
    found: list[str] = []
    for key, value in document.items():
        path = f"{where}{key}"
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            found.append(f"{path}: unknown key" + (f" (did you mean {where}{close[0]}?)" if close else ""))
            continue
        for nested in _models_in(fields[key].annotation):
            found.extend(unknown_keys(nested, value, f"{path}."))
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field holds directly (`Model`, `Model | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]
    return []
