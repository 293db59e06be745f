"""Whether a model's short answer is words at all: a weak model fills a field with code debris (`");`).

Such a field would become a plan's strategy ("address );") and the summary's text; the roles treat a
reply carrying one as unreadable and use their offline reading instead.
"""

from __future__ import annotations

# Fewer letters than this is no description of anything; "GPU" is the shortest sensible answer.
MIN_LETTERS = 3
# In prose most characters that are not spaces are letters; in debris, punctuation dominates.
MIN_LETTER_SHARE = 0.5


def is_prose(text: str) -> bool:
    visible = [character for character in text if not character.isspace()]
    letters = sum(character.isalpha() for character in visible)
    return letters >= MIN_LETTERS and letters >= MIN_LETTER_SHARE * len(visible)


def debris_fields(values: dict[str, str]) -> list[str]:
    """The names of the fields whose text is not prose."""
    return [name for name, text in values.items() if not is_prose(text)]
