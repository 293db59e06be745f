"""The CLI's rich consoles: results on stdout, errors and progress on stderr; and how data is printed on them."""

from rich.console import Console
from rich.text import Text

from kevolve.eval_harness.static_checks.hidden_characters import reveal

console = Console()
error_console = Console(stderr=True)


def shown(text: str, style: str = "") -> Text:
    """Text from a run folder or a model (names, sources, reasons) as a terminal should print it: never read as
    Rich markup, and its control and invisible characters shown as `<U+001B>` markers instead of acting."""
    return Text(reveal(text), style=style)


def print_error(label: str, message: str) -> None:
    """`label:` in bold red, then `message` printed as data: an error quotes names that came from outside."""
    error_console.print(Text.assemble((f"{label}:", "bold red"), " ", shown(message)), highlight=False)
