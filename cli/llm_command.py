"""`kevolve llm check`: what the configured endpoint and model can do, and whether kevolve can work with them.

Exit codes: 0 usable (plain text works and at least one structured-output method does), 1 reachable
but unusable, 2 unreachable, failing (no answer in time, HTTP 5xx, a reply that is no chat completion)
or not configured.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kevolve.tools.llm.cache_folder import default_cache_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="verb", required=True)
    check = verbs.add_parser(
        "check", help="probe the endpoint and model: structured output, streaming, context length, speed",
        description="Without --base-url or --model, checks every endpoint and model the roles are configured "
                    "with; with either, only that one.")
    check.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint, e.g. http://host:8000/v1")
    check.add_argument("--model", default=None, help="the model name the server knows")
    check.add_argument("--api-key", default=None, help="default: the settings' key (servers on your own "
                                                       "machines take any)")
    check.add_argument("--llm-config", type=Path, default=None,
                       help="LLM settings file (YAML; default ./kevolve.yaml when present)")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument("--no-cache", action="store_true", help="probe again instead of reading the cache")
    check.add_argument("--cache-dir", type=Path, default=None, help=f"default {default_cache_dir()}")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the probing loads the LLM clients, which `kevolve llm --help` must not wait for.
    from .llm_check import check

    return check(args)
