"""What a reviewer reads is what runs: hidden characters in a waiting kernel's source and names show as visible
`<U+...>` markers, on the page and in the terminal, with a warning; no control character reaches the terminal
and no Rich markup in a run's data is interpreted."""

from __future__ import annotations

import pytest

from checkpoint_edits import edit_request
from kevolve.main import main

RLO, ESC = "\u202e", "\x1b"
MARKUP_NAME = "[link=http://attacker.example]gelu[/link] [/bogus]"  # a hyperlink, and a tag that crashed `show`


@pytest.fixture
def disguised(home, review_id) -> str:
    """The waiting kernel, its checkpoint made to carry a Trojan Source comment, an ANSI escape and markup."""
    [run] = (home / "runs").iterdir()

    def disguise(request: dict) -> None:
        request["source"] += f"# {RLO} if admin: {ESC}[2J{ESC}[31mgreen\n"
        request["problem"] = f"{MARKUP_NAME} {RLO}x"
        request["timings"][0]["name"] += RLO  # drawn into the timing plot's SVG

    edit_request(run, disguise)
    return review_id


def test_the_page_marks_hidden_characters_and_warns(make_client, disguised):
    page = make_client().get(f"/kernels/{disguised}").text
    assert RLO not in page and ESC not in page
    assert 'id="hidden-characters"' in page and "U+202E (bidirectional control) x1" in page
    assert '<mark class="hidden-char" title="bidirectional control">&lt;U+202E&gt;</mark>' in page
    assert '<mark class="hidden-char" title="control character">&lt;U+001B&gt;</mark>' in page
    assert "[link=http://attacker.example]gelu[/link] [/bogus] &lt;U+202E&gt;x" in page  # the name, as text


def test_review_show_escapes_the_terminal_and_prints_markup_literally(home, disguised, capsys):
    assert main(["review", "--runs-dir", str(home / "runs"), "show", disguised]) == 0
    out, err = capsys.readouterr()
    assert ESC not in out + err and RLO not in out + err
    assert "<U+202E> if admin: <U+001B>[2J<U+001B>[31mgreen" in out
    assert MARKUP_NAME in out  # printed, not turned into a link or a crash
    assert "warning:" in err and "U+202E (bidirectional control)" in err


def test_the_listing_keeps_ids_whole_at_80_columns_and_names_literal(home, disguised, capsys):
    assert main(["review", "--runs-dir", str(home / "runs")]) == 0
    out = capsys.readouterr().out
    assert disguised in out.splitlines() and "…" not in out
    assert MARKUP_NAME in " ".join(out.split()) and RLO not in out
