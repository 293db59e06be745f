"""Trojan Source and friends: characters that make a source read differently from how it runs are refused by
the static checks and shown as visible markers wherever a person reads them."""

import pytest

from kevolve.eval_harness.settings import Policy
from kevolve.eval_harness.static_checks import check_source
from kevolve.eval_harness.static_checks.hidden_characters import HiddenKind, find_hidden, reveal, summary
from static_check_helpers import E, compose, of_rule

RLO, LRI, PDI, ZWJ, ESC = "\u202e", "\u2066", "\u2069", "\u200d", "\x1b"

# The CVE-2021-42574 "early return" shape: in an editor the check reads as part of the comment.
TROJAN_COMMENT = compose(f"""
    class ModelNew(nn.Module):
        def forward(self, x):
            admin = False
            # {RLO} {LRI}if admin:{PDI} {LRI}# only admins get the fast path{PDI}
            return launch(x)
""")
# Two keys that look the same and differ: a lookup that reads as one thing and does another.
ZERO_WIDTH_NAME = compose(f"""
    SCALES = {{"scale": 1.0, "sca{ZWJ}le": 0.0}}
    class ModelNew(nn.Module):
        def forward(self, x):
            return launch(x)
""")
ESCAPE_IN_STRING = compose(f"""
    BANNER = "{ESC}[2J{ESC}[Hlooks harmless"
    class ModelNew(nn.Module):
        def forward(self, x):
            return launch(x)
""")


@pytest.mark.parametrize(("source", "code"), [(TROJAN_COMMENT, "U+202E"), (ZERO_WIDTH_NAME, "U+200D"),
                                              (ESCAPE_IN_STRING, "U+001B")])
def test_hidden_characters_refuse_the_candidate_at_their_line(source, code):
    [finding] = of_rule(check_source(source, policy=Policy.STRICT), "hidden_characters")
    marked_line = next(number for number, line in enumerate(source.split("\n"), 1) if any(
        hidden.line == number for hidden in find_hidden(source)))
    assert finding.severity == E and finding.line == marked_line and code in finding.reason


def test_ordinary_sources_are_not_flagged():
    plain = compose("""
        class ModelNew(nn.Module):
            def forward(self, x):\t# a tab, an accent (é), a CRLF ending and a non-ASCII string are all visible
                label = "µs ← größe"
                return launch(x)
    """).replace("\n", "\r\n")
    assert of_rule(check_source(plain, policy=Policy.STRICT), "hidden_characters") == []
    assert find_hidden(plain) == [] and reveal(plain) == plain


def test_reveal_marks_each_hidden_character_and_keeps_lines():
    text = f"a{RLO}b\n\tc{ESC}[31m\rd\r\n"
    assert reveal(text) == "a<U+202E>b\n\tc<U+001B>[31m<U+000D>d\r\n"
    assert [(hidden.line, hidden.column, hidden.kind) for hidden in find_hidden(text)] == [
        (1, 2, HiddenKind.BIDI), (2, 3, HiddenKind.CONTROL), (2, 8, HiddenKind.CONTROL)]
    assert summary(f"{RLO}x{RLO}{ZWJ}") == "U+202E (bidirectional control) x2, U+200D (invisible character) x1"
    assert summary("nothing hidden") is None
