"""Options shared by the commands that drive optimization runs (`optimize`, `review`, `chat`), and the
services they open."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from kevolve.graph.folders import (
    LIBRARY_DEFAULT,
    LIBRARY_VARIABLE,
    RUNS_DEFAULT,
    RUNS_VARIABLE,
    default_library_dir,
    default_runs_dir,
)
from kevolve.tools.knowledge.settings import KnowledgeSettings
from kevolve.tools.llm.settings import LLMSettings

from .executor_options import add_executor_options, executor_settings

if TYPE_CHECKING:  # the graph loads LangGraph and PyTorch: imported where used, so --help answers at once
    from kevolve.graph.context import RunServices
    from kevolve.graph.state import RunSources, TaskSpec
    from kevolve.tools.executors import ExecutorSettings

DEFAULT_LLM_CONFIG = Path("kevolve.yaml")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs-dir", type=Path, default=default_runs_dir(),
                        help=f"where runs are kept (default ./{RUNS_DEFAULT}, or {RUNS_VARIABLE})")
    parser.add_argument("--library", type=Path, default=None,
                        help="where approved kernels are written (default: the folder the run started with; for a "
                             f"new run ./{LIBRARY_DEFAULT}, or {LIBRARY_VARIABLE})")
    parser.add_argument("--llm-config", type=Path, default=None,
                        help=f"LLM settings file (YAML; default ./{DEFAULT_LLM_CONFIG} when present); "
                             "KEVOLVE_LLM_* variables override it")
    parser.add_argument("--transcript", type=Path, default=None,
                        help="replay the model replies in this YAML file instead of calling a model")
    parser.add_argument("--seeds", type=Path, default=None,
                        help="a folder of hand-written candidates (<problem>.py) the offline coder proposes")
    parser.add_argument("--no-knowledge", action="store_true", help="plan without the knowledge base")
    parser.add_argument("--no-engine", action="store_true",
                        help="no candidates from the offline engine (only seeds, or the model's)")
    add_executor_options(parser)


def llm_settings(args: argparse.Namespace) -> LLMSettings:
    config = args.llm_config or (DEFAULT_LLM_CONFIG if DEFAULT_LLM_CONFIG.is_file() else None)
    return LLMSettings.load(config, os.environ)


def run_sources(args: argparse.Namespace) -> RunSources:
    from kevolve.graph.state import RunSources

    return RunSources(
        seeds=str(args.seeds.resolve()) if args.seeds else None,
        transcript=str(args.transcript.resolve()) if args.transcript else None,
        knowledge=not args.no_knowledge,
        engine=not args.no_engine,
        library=str((args.library or default_library_dir()).resolve()),
        results_db=str(args.results_db.resolve()) if args.results_db else None,
    )


def open_run_services(task: TaskSpec, args: argparse.Namespace) -> RunServices:
    """Services for `task`; the run's own sources unless this command line names others."""
    from kevolve.graph.services import open_services

    saved = task.sources
    return open_services(
        task,
        llm=llm_settings(args),
        knowledge=KnowledgeSettings.from_environment() if saved.knowledge and not args.no_knowledge else None,
        transcript=args.transcript or (Path(saved.transcript) if saved.transcript else None),
        seeds=args.seeds or (Path(saved.seeds) if saved.seeds else None),
        engine=saved.engine and not args.no_engine,
        cache_dir=args.cache_dir,
        use_baseline_cache=not args.no_cache,
        run_dir=args.runs_dir / task.run_id,
        executor=run_executor_settings(task, args),
    )


def run_executor_settings(task: TaskSpec, args: argparse.Namespace) -> ExecutorSettings:
    """Where `task`'s candidates are judged; its results cache is the one it started with unless named again."""
    saved = task.sources.results_db
    return executor_settings(args, saved_results_db=Path(saved) if saved else None)
