"""Command groups take their options on either side of the verb, and one given before it is not reset after."""

from __future__ import annotations

from pathlib import Path

import pytest

from kevolve.main import build_parser


@pytest.mark.parametrize(
    ("argv", "option", "value"),
    [
        (["review", "--runs-dir", "R", "approve", "r:n"], "runs_dir", Path("R")),
        (["review", "approve", "r:n", "--runs-dir", "R"], "runs_dir", Path("R")),
        (["kb", "--data-dir", "D", "search", "q"], "data_dir", Path("D")),
        (["kb", "search", "q", "--data-dir", "D"], "data_dir", Path("D")),
        (["campaign", "--campaigns-dir", "C", "status"], "campaigns_dir", Path("C")),
        (["campaign", "status", "--campaigns-dir", "C"], "campaigns_dir", Path("C")),
    ],
)
def test_an_option_of_the_group_is_taken_on_either_side_of_the_verb(argv, option, value):
    assert getattr(build_parser().parse_args(argv), option) == value


def test_without_the_option_the_group_default_stands():
    assert build_parser().parse_args(["review", "approve", "r:n"]).runs_dir.name == "kevolve-runs"
