"""The `kevolve` command: parses arguments, configures logging, turns bad input into clear exits."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from kevolve.agents.prompt_budget import PromptTooLarge
from kevolve.eval_harness.environment import UnknownDeviceError
from kevolve.eval_harness.problem import ProblemLoadError
from kevolve.eval_harness.worker_client import WorkerUnavailable
from kevolve.graph.campaign.spec import CampaignSpecError
from kevolve.graph.campaign.store import CampaignNotFound
from kevolve.graph.database import DatabaseUnavailable
from kevolve.graph.run_directory import RunNotFound
from kevolve.graph.runner import NothingToDecide
from kevolve.tools.knowledge.base import KnowledgeBaseUnavailable
from kevolve.tools.llm.base import LLMUnavailable
from kevolve.tools.llm.settings import LLMSettingsError
from kevolve.tools.llm.transcript import TranscriptError

from . import (
    bench_command,
    campaign_command,
    chat_command,
    eval_command,
    kb_command,
    library_command,
    llm_command,
    optimize_command,
    profile_command,
    report_command,
    review_command,
    serve_command,
)
from .console import error_console, print_error
from .options import UsageError

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kevolve", description="Verified, faster GPU kernels from PyTorch references."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the harness does")
    commands = parser.add_subparsers(dest="command", required=True)
    eval_command.add_parser(commands)
    bench_command.add_parser(commands)
    profile_command.add_parser(commands)
    kb_command.add_parser(commands)
    optimize_command.add_parser(commands)
    review_command.add_parser(commands)
    chat_command.add_parser(commands)
    llm_command.add_parser(commands)
    serve_command.add_parser(commands)
    campaign_command.add_parser(commands)
    report_command.add_parser(commands)
    library_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args))
    except (ProblemLoadError, UnknownDeviceError, WorkerUnavailable, KnowledgeBaseUnavailable, UsageError,
            RunNotFound, NothingToDecide, LLMSettingsError, TranscriptError, PromptTooLarge, OSError,
            CampaignSpecError, CampaignNotFound, DatabaseUnavailable) as exc:
        print_error("error", str(exc))
        return EXIT_USAGE
    except LLMUnavailable as exc:
        # Checkpoints hold everything up to the failed call: the run continues with --resume.
        error_console.print(f"[bold red]model unavailable:[/] {exc}\nthe run is saved; continue it with "
                            "`kevolve optimize --resume RUN` once the model answers", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        error_console.print("[yellow]interrupted[/]; results written so far are kept")
        return 130


if __name__ == "__main__":
    sys.exit(main())
