"""`kevolve llm check`'s work: probe the endpoints and models, print the table or the JSON, choose the exit code.

Apart from llm_command (the arguments): it loads the LLM clients, which `kevolve llm --help` must not wait for.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import SecretStr
from rich.markup import escape
from rich.table import Table

from kevolve.tools.candidates import Role
from kevolve.tools.llm.base import LLMUnavailable
from kevolve.tools.llm.cache_folder import default_cache_dir
from kevolve.tools.llm.capabilities import PREFERENCE, Capabilities, ProbeResult, working_methods
from kevolve.tools.llm.capability_cache import cache_file, capabilities_for
from kevolve.tools.llm.openai_client import endpoint_of
from kevolve.tools.llm.settings import LLMSettings, ResolvedModelSettings, StructuredMethod
from kevolve.tools.llm.tokens import DEFAULT_OUTPUT_RESERVE

from .console import console, error_console
from .run_options import llm_settings

EXIT_UNUSABLE = 1
EXIT_UNREACHABLE = 2


def _targets(args: argparse.Namespace) -> list[ResolvedModelSettings]:
    """The distinct endpoint and model pairs to probe, each with the settings of the first role using it."""
    settings: LLMSettings = llm_settings(args)
    flags = {"base_url": args.base_url, "model": args.model,
             "api_key": SecretStr(args.api_key) if args.api_key else None}
    if args.base_url or args.model:
        # Named on the command line: that one endpoint, whatever the roles override.
        settings = settings.model_copy(update={k: v for k, v in flags.items() if v is not None} | {"roles": {}})
    elif args.api_key:
        settings = settings.model_copy(update={"api_key": flags["api_key"]})
    targets: dict[tuple[str, str], ResolvedModelSettings] = {}
    for role in Role:
        resolved = settings.resolved(role)
        if resolved is not None:
            targets.setdefault((endpoint_of(resolved), resolved.model), resolved)
    return list(targets.values())


def check(args: argparse.Namespace) -> int:
    """Probe each configured endpoint and model, report, and say by the exit code whether kevolve can use them."""
    targets = _targets(args)
    if not targets:
        error_console.print("[bold red]error:[/] no model configured: pass --model (and --base-url), set "
                            "KEVOLVE_LLM_MODEL, or set llm.model in kevolve.yaml", highlight=False, soft_wrap=True)
        return EXIT_UNREACHABLE
    cache_dir = args.cache_dir or default_cache_dir()
    reports = []
    for target in targets:
        try:
            capabilities, cached = capabilities_for(target, cache_dir, refresh=args.no_cache)
        except LLMUnavailable as exc:
            what = escape(f"{target.model} at {endpoint_of(target)}: {exc.detail}")  # a server's reply is no markup
            error_console.print(f"[bold red]unavailable:[/] {what}", highlight=False, soft_wrap=True)
            return EXIT_UNREACHABLE
        reports.append((target, capabilities, cached))
    if args.json:
        sys.stdout.write(json.dumps([_as_json(*report) for report in reports], indent=2) + "\n")
    else:
        for target, capabilities, cached in reports:
            _print_report(target, capabilities, cache_file(cache_dir, capabilities.endpoint, capabilities.model)
                          if cached else None)
    return 0 if all(capabilities.usable for _, capabilities, _ in reports) else EXIT_UNUSABLE


def chosen_method(settings: ResolvedModelSettings, capabilities: Capabilities) -> StructuredMethod | None:
    """The method a run would use: the configured one, or under `auto` the best that works (None: none)."""
    if settings.structured_output is not StructuredMethod.AUTO:
        return settings.structured_output
    working = working_methods(capabilities)
    return working[0] if working else None


def _as_json(settings: ResolvedModelSettings, capabilities: Capabilities, cached: bool) -> dict:
    method = chosen_method(settings, capabilities)
    return capabilities.model_dump(mode="json") | {
        "configured_method": settings.structured_output.value, "method": method.value if method else None,
        "usable": capabilities.usable, "cached": cached}


def _row(name: str, result: ProbeResult) -> tuple[str, str, str, str]:
    works = "[green]works[/]" if result.works else "[red]fails[/]"
    return name, works, f"{result.seconds:.2f}", escape(result.error or "")


def _full_reply(settings: ResolvedModelSettings, capabilities: Capabilities) -> str:
    """How long the longest reply a run asks for takes at the measured speed, against timeout_s."""
    assert capabilities.tokens_per_s is not None
    tokens = settings.max_output_tokens or DEFAULT_OUTPUT_RESERVE
    seconds = tokens / capabilities.tokens_per_s
    limit = f"timeout_s={settings.timeout_s:g}"
    verdict = f"within {limit}" if seconds <= settings.timeout_s else \
        f"[red]over {limit}[/]: raise it (or lower max_output_tokens)"
    return f"a full reply ({tokens} tokens) takes about {seconds:.0f} s, {verdict}"


def _print_report(settings: ResolvedModelSettings, capabilities: Capabilities, cached_in: Path | None) -> None:
    table = Table(title=f"{capabilities.model} at {capabilities.endpoint}", title_justify="left")
    for column in ("capability", "result", "seconds", "error"):
        table.add_column(column, overflow="fold")
    table.add_row(*_row("plain text", capabilities.text))
    for method in PREFERENCE:
        table.add_row(*_row(f"structured: {method.value}", capabilities.structured[method]))
    table.add_row(*_row("streaming", capabilities.streaming))
    console.print(table)
    method = chosen_method(settings, capabilities)
    if method is None:
        use = "[red]none[/]: no structured-output method works"
    elif settings.structured_output is StructuredMethod.AUTO:
        use = f"[bold]{method.value}[/] (structured_output: auto picks the best that works)"
    elif capabilities.structured[method].works:
        use = f"[bold]{method.value}[/] (configured)"
    else:
        use = f"[bold]{method.value}[/] (configured) [red]fails here[/]: set structured_output to auto"
    told = (f"{capabilities.context_length} tokens ({capabilities.context_length_source})"
            if capabilities.context_length else None)
    if settings.context_window is not None:
        length = f"{settings.context_window} tokens (context_window)" + (f"; the server says {told}" if told else "")
    else:
        length = told or "unknown (the server does not say): set context_window"
    at_once = (f"{capabilities.parallel_requests} ({capabilities.parallel_requests_source})"
               if capabilities.parallel_requests else "not said by the server")
    if settings.max_concurrent_requests is not None:
        at_once = f"{settings.max_concurrent_requests} (max_concurrent_requests); the server: {at_once}"
    speed = f"{capabilities.latency_s:.2f} s for a short reply" if capabilities.latency_s is not None else "unknown"
    if capabilities.tokens_per_s is not None:
        speed += f", {capabilities.tokens_per_s:.0f} output tokens/s; {_full_reply(settings, capabilities)}"
    verdict = "[green]usable[/]" if capabilities.usable else "[red]unusable[/]"
    if cached_in is not None:
        source = f"cached in {cached_in}; --no-cache probes again"
    elif capabilities.conclusive:
        source = "probed now"
    else:
        source = "probed now; not kept: the server failed some probes, so the next check probes again"
    for line in (f"kevolve will use: {use}", f"context length: {length}", f"requests at once: {at_once}",
                 f"latency: {speed}",
                 f"probed at {capabilities.probed_at:%Y-%m-%d %H:%M:%S} UTC ({source})", f"verdict: {verdict}"):
        console.print(line, highlight=False, soft_wrap=True)
