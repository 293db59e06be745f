"""Names read from run folders and libraries, checked before they become paths, module names or generated code.

A run folder may come from anywhere (a colleague's campaign, a copy from a shared disk), and so may a
library: its run id, node ids, problem name and placements are untrusted text. Each must be a single
path component of letters, digits, `_`, `.` and `-` that starts with a letter or digit, so that it can
neither leave the folder it is joined to (`..`, `/`) nor end a string or docstring in generated code
(quotes, backslashes, newlines).
"""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
NAME_RULE = "1 to 200 letters, digits, '_', '.' or '-', starting with a letter or digit"
_SHOWN = 80  # a hostile name can be long: the message quotes its start


class UnsafeName(ValueError):
    """A name that cannot be used as a path component or in generated code; nothing was written with it."""


def checked_name(kind: str, value: object) -> str:
    """`value` when it is a safe name; raises UnsafeName saying which `kind` of name was refused."""
    if isinstance(value, str) and NAME_PATTERN.fullmatch(value):
        return value
    shown = repr(value[:_SHOWN] + ("…" if len(value) > _SHOWN else "")) if isinstance(value, str) else repr(value)
    raise UnsafeName(f"{kind} {shown} is not a safe name ({NAME_RULE}): refusing to use it as a path or in code")


def slug(text: str) -> str:
    """Free text, such as a device's model name, as a name: other characters become `-`; it starts with a
    letter or digit (empty when the text has none)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lstrip("._-")
