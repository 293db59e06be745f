"""`kevolve chat`: a conversation that starts, watches, stops and approves runs, their progress live."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kevolve.eval_harness.precision import Precision
from kevolve.tools.candidates import Role

from .console import console, shown
from .options import add_evaluation_options, resolve_device
from .progress import print_event
from .run_options import add_run_options, llm_settings, open_run_services
from .task_options import add_search_options, new_task

if TYPE_CHECKING:
    from kevolve.graph.runner import OptimizationRun

    from .chat_session import RunFactory

# The run, the session and the LLM clients load PyTorch and LangGraph: they are imported in the functions that
# use them, so that `kevolve chat --help` and an argument error answer at once.


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_search_options(parser)
    add_evaluation_options(parser)
    add_run_options(parser)
    parser.set_defaults(run=run)


def run_factory(args: argparse.Namespace) -> RunFactory:
    """New runs as `kevolve optimize` starts them, on the chat's problem and devices."""
    from kevolve.graph.runner import OptimizationRun
    from kevolve.graph.services import close_services

    def start(problem: Path, devices: list[str], precision: Precision | None = None) -> OptimizationRun:
        task = new_task(args, problem, devices=devices, precision=precision)
        services = open_run_services(task, args)
        try:
            library = Path(task.sources.library)  # this command's own (or the default): marked when the run is made
            return OptimizationRun.start(args.runs_dir, task, services, library=library)
        except BaseException:
            close_services(services)
            raise

    return start


def _say(text: str) -> None:
    # soft_wrap: kernel source is printed as it is, not folded at the terminal's width; `shown`: a source's
    # escape sequences and bidi controls are marked, not acted on by the terminal.
    console.print(shown(text), highlight=False, soft_wrap=True)


def run(args: argparse.Namespace) -> int:
    from kevolve.tools.llm.factory import make_llm_provider

    from .chat_replies import HELP
    from .chat_session import ChatSession

    provider = make_llm_provider(llm_settings(args), transcript=args.transcript)
    session = ChatSession(
        run_factory(args), say=_say, on_event=print_event,
        llm=provider.for_role(Role.CHAT) if provider is not None else None,
        default_device=resolve_device(args.device),
    )
    _say(HELP)
    going = True
    try:
        while going:
            try:
                message = console.input("[bold]you>[/] ")
            except EOFError:
                break
            going = session.handle(message)
    except KeyboardInterrupt:
        console.print()
    finally:
        session.close()
    return 0
