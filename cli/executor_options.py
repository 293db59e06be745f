"""Options that choose where candidates are evaluated (this machine or a Ray cluster) and where verdicts are cached."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from kevolve.tools.executors import ExecutorKind, ExecutorSettings
from kevolve.tools.executors.settings import ResultCacheSettings, default_results_path

from .options import UsageError

RESULTS_FILE = "results.sqlite"


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", choices=[kind.value for kind in ExecutorKind], default=ExecutorKind.LOCAL.value,
                        help="local: a worker per device of this machine; ray: an actor per GPU of a Ray cluster "
                             "(pip install 'kevolve[ray]'); with ray, --device may name a hardware spec (h100_sxm)")
    parser.add_argument("--ray-address", default=None, metavar="ADDR",
                        help="the Ray cluster to join (e.g. 10.0.0.7:6379); default: start a local Ray")
    parser.add_argument("--ray-cpu-actors", type=int, default=0, metavar="N",
                        help="with ray: also N actors that evaluate on the CPU (Triton's interpreter; "
                             "--device cpu_interpreter targets them), for clusters without GPUs")
    parser.add_argument("--results-db", type=Path, default=None, metavar="PATH",
                        help=f"the SQLite results cache (default ~/.cache/kevolve/{RESULTS_FILE}, or "
                             "KEVOLVE_RESULTS_DB; KEVOLVE_DATABASE_URL puts it in PostgreSQL instead)")


def executor_settings(args: argparse.Namespace, environ: Mapping[str, str] = os.environ, *,
                      saved_results_db: Path | None = None) -> ExecutorSettings:
    """From the command line, then the one a resumed run started with, then the environment. --no-cache
    evaluates everything again; a --cache-dir keeps the results cache beside the baselines it holds."""
    from_environment = Path(environ["KEVOLVE_RESULTS_DB"]) if environ.get("KEVOLVE_RESULTS_DB") else None
    sqlite_path = (args.results_db or saved_results_db or from_environment
                   or (args.cache_dir / RESULTS_FILE if args.cache_dir else default_results_path()))
    try:
        return ExecutorSettings(
            kind=ExecutorKind(args.executor),
            ray_address=args.ray_address,
            ray_cpu_actors=args.ray_cpu_actors,
            results=ResultCacheSettings(enabled=not args.no_cache, sqlite_path=sqlite_path,
                                        database_url=environ.get("KEVOLVE_DATABASE_URL") or None),
        )
    except ValidationError as error:
        raise UsageError("; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())) from None
