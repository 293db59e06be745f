"""What the templates show besides the request's own fields: highlighted code, a second diff, number formats."""

from __future__ import annotations

import difflib
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, PythonLexer

from kevolve.eval_harness.problem import ProblemLoadError
from kevolve.eval_harness.static_checks.hidden_characters import reveal, summary
from kevolve.graph.approval import ApprovalRequest
from kevolve.graph.review_queue import read_task
from kevolve.graph.run_directory import RunDirectory
from kevolve.graph.summary import format_percent, format_ratio

from . import plots

TEMPLATES = Path(__file__).parent / "templates"
_SOURCE = HtmlFormatter(cssclass="hl", linenos="inline")
_DIFF = HtmlFormatter(cssclass="hl")
HIGHLIGHT_CSS = _SOURCE.get_style_defs(".hl")


def templates() -> Environment:
    # StrictUndefined: a misspelt field fails the page in tests instead of rendering as nothing.
    # finalize: every value a template prints shows its hidden characters (a bidi override in a problem name
    # would reorder the text around it); markup we made ourselves has had them marked already.
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                              finalize=_visible)
    environment.filters.update(ratio=format_ratio, percent=format_percent, verdict=verdict, number=number)
    environment.globals.update(highlight_css=Markup(HIGHLIGHT_CSS), timing_plot=plots.timing_plot,
                               light_gauge=plots.light_gauge, python=python, diff=diff, hidden_in=summary)
    return environment


def python(source: str) -> Markup:
    return _marked(highlight(source, PythonLexer(), _SOURCE))


def diff(text: str) -> Markup:
    return _marked(highlight(text or "(no change)\n", DiffLexer(), _DIFF))


def _marked(html: str) -> Markup:
    """Highlighted code with each hidden character replaced by a visible marker. Done on the HTML: the
    highlighter escapes `<` and `&` but passes these characters through, and none of them is markup."""
    return Markup(reveal(html, lambda hidden: f'<mark class="hidden-char" title="{hidden.kind}">'
                                              f'&lt;{hidden.code}&gt;</mark>'))


def _visible(value: object) -> object:
    return reveal(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def reference_diff(run: RunDirectory, request: ApprovalRequest) -> tuple[str | None, str]:
    """The kernel against the reference, when the request's own diff is against an earlier best.

    Returns (diff, note): no diff when the request's diff already is against the reference, or when
    the reference is neither kept in the run nor on this machine (an older run made elsewhere).
    """
    if request.previous_best is None:
        return None, "the diff above is against the reference: no earlier kernel was accepted"
    task = read_task(run)
    try:
        reference = task.problem().source
    except ProblemLoadError:
        return None, f"the reference is not on this machine ({task.problem_path})"
    lines = difflib.unified_diff(reference.splitlines(keepends=True),
                                 request.source.splitlines(keepends=True), fromfile="reference",
                                 tofile=request.node_id)
    return "".join(lines), ""


def verdict(beats_baselines: bool | None) -> str:
    return {True: "yes", False: "NO", None: "not measured"}[beats_baselines]


def number(value: float | None) -> str:
    return f"{value:.3g}" if value is not None else "n/a"
