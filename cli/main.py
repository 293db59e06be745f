"""The `kevolve` command: parses arguments, configures logging, turns bad input into clear exits.

Start-up stays short (`kevolve --help` imports no command): only the command named on the line has
its module imported; the others are listed by the name and help in COMMANDS.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NamedTuple

from .console import error_console, print_error
from .exit_codes import ExitCode, describe_exit_codes


class Command(NamedTuple):
    module: str  # in this package; it defines add_arguments(parser) and run(args)
    help: str  # one line in `kevolve --help`
    description: str | None = None  # the top of `kevolve COMMAND --help`, where one line is not enough


COMMANDS: dict[str, Command] = {
    "eval": Command("eval_command", "evaluate one candidate against one problem"),
    "bench": Command("bench_command", "baselines (and candidates) over a suite of problems"),
    "profile": Command("profile_command", "profile and speed of light of a candidate (or the reference)"),
    "kb": Command("kb_command", "the knowledge base: ingest, search, stats, export, import"),
    "optimize": Command("optimize_command", "search for a verified, faster kernel for a problem"),
    "review": Command("review_command", "list, show, approve or reject kernels waiting for a person"),
    "chat": Command("chat_command", "ask in your own words: optimize, status, show, stop, approve",
                    "A conversation that starts and steers kernel searches, in your own words: 'make this layernorm "
                    "faster on the H100', 'what is the best so far?', 'stop and show me the kernel', 'approve it' or "
                    "'reject it because ...'. With a model configured (--llm-config, KEVOLVE_LLM_*) it reads free "
                    "phrasing; without one, phrasings like these. The options below apply to every run the chat "
                    "starts; 'help' in the chat lists what it understands."),
    "llm": Command("llm_command", "the language model endpoint: what it can do"),
    "serve": Command("serve_command", "review waiting kernels in a browser: evidence, approve, reject"),
    "campaign": Command("campaign_command", "optimize many problems under one budget, unattended"),
    "report": Command("report_command", "a run's or a campaign's results as HTML, markdown and JSON"),
    "library": Command("library_command", "list, export or re-validate the approved-kernel library"),
}

# Errors that mean bad input or a service that did not answer: one line, exit 2. Named rather than
# imported: a class whose module was never imported cannot have been raised, and importing them all
# would load PyTorch and LangGraph before every command.
USER_ERRORS: dict[str, tuple[str, ...]] = {
    "kevolve.options": ("UsageError",),
    "kevolve.agents.prompt_budget": ("PromptTooLarge",),
    "kevolve.eval_harness.environment": ("UnknownDeviceError",),
    "kevolve.eval_harness.problem": ("ProblemLoadError",),
    "kevolve.eval_harness.worker_client": ("WorkerUnavailable",),
    "kevolve.graph.approval": ("EvidenceMismatch",),
    "kevolve.graph.campaign.spec": ("CampaignSpecError",),
    "kevolve.graph.campaign.store": ("CampaignNotFound",),
    "kevolve.graph.database": ("DatabaseUnavailable",),
    "kevolve.graph.run_directory": ("RunNotFound",),
    "kevolve.graph.runner": ("NothingToDecide",),
    "kevolve.tools.knowledge.base": ("KnowledgeBaseUnavailable",),
    "kevolve.tools.llm.settings": ("LLMSettingsError",),
    "kevolve.tools.llm.transcript": ("TranscriptError",),
    "kevolve.tools.safe_names": ("UnsafeName",),
}
LLM_UNAVAILABLE = ("kevolve.tools.llm.base", ("LLMUnavailable",))


def _named_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names, unless a help flag comes first (the help of every command is wanted)."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given `argv`, only the command it names gets its options (and its module imported)."""
    parser = argparse.ArgumentParser(
        prog="kevolve", description="Verified, faster GPU kernels from PyTorch references.",
        epilog=describe_exit_codes(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the harness does")
    commands = parser.add_subparsers(dest="command", required=True)
    named = _named_command(argv) if argv is not None else None
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.description or command.help)
        if argv is None or name == named:
            importlib.import_module(f"{__package__}.{command.module}").add_arguments(sub)
    return parser


def _is_one_of(exc: BaseException, module_name: str, class_names: tuple[str, ...]) -> bool:
    module = sys.modules.get(module_name)
    return module is not None and isinstance(exc, tuple(getattr(module, name) for name in class_names))


def _is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) or any(_is_one_of(exc, module, names) for module, names in USER_ERRORS.items())


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        error_console.print("[yellow]interrupted[/]; results written so far are kept")
        return ExitCode.INTERRUPTED
    except Exception as exc:
        if _is_one_of(exc, *LLM_UNAVAILABLE):
            # Checkpoints hold everything up to the failed call: the run continues with --resume.
            print_error("model unavailable", f"{exc}\nthe run is saved; continue it with "
                                             "`kevolve optimize --resume RUN` once the model answers")
            return ExitCode.USAGE_OR_UNAVAILABLE
        if not _is_user_error(exc):
            raise
        print_error("error", str(exc))
        return ExitCode.USAGE_OR_UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())
