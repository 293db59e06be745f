"""The CLI's rich consoles: results on stdout, errors and progress on stderr; and how data is printed on them."""

from rich.console import Console
from rich.text import Text

from kevolve.eval_harness.static_checks.hidden_characters import reveal

# Lines are never broken at the console's width (80 columns when the output is a file): a message sent to a
# log keeps its paths and ids whole for grep. A terminal still wraps them on screen; tables keep their layout.
console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)


def shown(text: str, style: str = "") -> Text:
    """Text from a run folder or a model (names, sources, reasons) as a terminal should print it: never read as
    Rich markup, and its control and invisible characters shown as `<U+001B>` markers instead of acting."""
    return Text(reveal(text), style=style)


def print_error(label: str, message: str) -> None:
    """`label:` in bold red, then `message` printed as data: an error quotes names that came from outside."""
    error_console.print(Text.assemble((f"{label}:", "bold red"), " ", shown(message)), highlight=False)
