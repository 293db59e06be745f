"""`kevolve --help` and a command's argument errors answer without loading PyTorch or LangGraph, and the help
documents every exit code."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from kevolve.exit_codes import ExitCode
from kevolve.main import COMMANDS

HEAVY = ("torch", "langgraph", "langchain_core")


def _modules_loaded_by(*argv: str) -> tuple[set[str], subprocess.CompletedProcess]:
    script = ("import sys\nfrom kevolve.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as exit:\n"
              "    print('EXITED', exit.code or 0)\n"
              f"print('LOADED', *sorted(name for name in sys.modules if name.split('.')[0] in {HEAVY!r}))")
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=120)
    [line] = [line for line in done.stdout.splitlines() if line.startswith("LOADED")]
    return set(line.split()[1:]), done


@pytest.mark.parametrize("argv", [["--help"], ["optimize", "--no-such-option"], ["campaign", "run"],
                                  ["no-such-command"]])
def test_help_and_argument_errors_load_neither_torch_nor_langgraph(argv):
    loaded, _ = _modules_loaded_by(*argv)
    assert not loaded, f"kevolve {' '.join(argv)} imported {sorted(loaded)[:5]}"


@pytest.mark.parametrize("flag", ["--help", "--no-such-option"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_answers_help_and_a_bad_option_without_torch_or_langgraph(command, flag):
    """Each command's module defines its options without loading them (its actions import them when they run)."""
    loaded, done = _modules_loaded_by(command, flag)
    assert not loaded, f"kevolve {command} {flag} imported {sorted(loaded)[:5]}"
    expected = 0 if flag == "--help" else ExitCode.USAGE_OR_UNAVAILABLE
    assert f"EXITED {int(expected)}" in done.stdout.splitlines(), (done.stdout[-300:], done.stderr[-300:])


def test_the_help_lists_every_command_and_every_exit_code():
    _, done = _modules_loaded_by("--help")
    for name in ("optimize", "review", "campaign", "kb", "library"):
        assert name in done.stdout
    for code in ExitCode:
        assert re.search(rf"^ +{int(code)}  \S", done.stdout, re.MULTILINE), code


def test_a_command_help_says_what_it_does():
    _, done = _modules_loaded_by("chat", "--help")
    assert "in your own words" in done.stdout


def test_an_error_sent_to_a_log_is_one_unbroken_line(tmp_path):
    missing = tmp_path / ("a-folder-with-a-long-name-" * 4) / "problem.py"
    done = subprocess.run([sys.executable, "-m", "kevolve", "eval", str(missing), "--candidate", str(missing)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == ExitCode.USAGE_OR_UNAVAILABLE
    assert str(missing) in done.stderr, done.stderr


def test_every_user_error_main_names_is_an_exception_class():
    """main recognises them by module and name (importing them would load PyTorch): a rename must not go unseen."""
    import importlib

    from kevolve.main import LLM_UNAVAILABLE, USER_ERRORS

    for module_name, class_names in [*USER_ERRORS.items(), LLM_UNAVAILABLE]:
        module = importlib.import_module(module_name)
        for name in class_names:
            assert issubclass(getattr(module, name), Exception), f"{module_name}.{name}"
