"""Options a command group takes on either side of its verb (`kevolve review --runs-dir D approve ID` and
`kevolve review approve ID --runs-dir D` alike), so nobody has to remember which side a group wants."""

from __future__ import annotations

import argparse
from collections.abc import Callable

AddOptions = Callable[[argparse.ArgumentParser], None]


def add_verbs_with_options(parser: argparse.ArgumentParser, add_options: AddOptions, *,
                           required: bool) -> Callable[..., argparse.ArgumentParser]:
    """Adds the options to `parser`, before the verb, and returns `add_verb(name, **kwargs)`, which makes a
    verb that takes them too. After the verb they default to nothing, so a value given before it stands."""
    add_options(parser)
    after_verb = argparse.ArgumentParser(add_help=False)
    add_options(after_verb)
    for action in after_verb._actions:  # argparse has no public way to change an added option's default
        action.default = argparse.SUPPRESS
    verbs = parser.add_subparsers(dest="verb", required=required)

    def add_verb(name: str, **kwargs: object) -> argparse.ArgumentParser:
        return verbs.add_parser(name, parents=[after_verb], **kwargs)

    return add_verb
