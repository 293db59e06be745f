"""`kevolve library [list|export|revalidate]`: the approved kernels, as PyTorch ops, kept honest after upgrades."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table
from rich.text import Text

from kevolve.eval_harness.evaluator import Evaluator
from kevolve.eval_harness.settings import EvalSettings, TimingSettings
from kevolve.graph.folders import LIBRARY_DEFAULT, LIBRARY_VARIABLE, default_library_dir
from kevolve.tools.kernel_library.declared_shapes import DeclaredShapes
from kevolve.tools.kernel_library.records import LibraryEntry, LibraryError, read_library
from kevolve.tools.kernel_library.revalidate import KernelCheck, Outcome, revalidate_library

from .console import console, shown
from .options import UsageError, add_cache_options, add_trial_options, resolve_device

# revalidate's exit codes: usable as a check in a user's own CI.
EXIT_UNCHANGED = 0
EXIT_CHANGED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    library_help = f"the library folder (default ./{LIBRARY_DEFAULT}, or {LIBRARY_VARIABLE})"
    parser.add_argument("--library", type=Path, default=default_library_dir(),
                        help=library_help)
    # Also after the verb (`kevolve library revalidate --library DIR`), as every other command takes it.
    after_verb = argparse.ArgumentParser(add_help=False)
    after_verb.add_argument("--library", type=Path, default=argparse.SUPPRESS, help=library_help)
    verbs = parser.add_subparsers(dest="verb")
    verbs.add_parser("list", parents=[after_verb],
                     help="every kernel, where it was verified, on how many signatures, and its status")
    export = verbs.add_parser("export", parents=[after_verb],
                              help="write an importable package: one torch custom op per problem")
    export.add_argument("--to", type=Path, default=Path("kevolve-export"),
                        help="folder to write the package into (default ./kevolve-export)")
    export.add_argument("--package", default="kevolve_kernels", help="the package's import name")
    export.add_argument("--namespace", default="kevolve_lib", help="the operators' namespace (torch.ops.NAMESPACE)")
    revalidate = verbs.add_parser(
        "revalidate", parents=[after_verb],
        help="re-run correctness and timing under the installed software; exit 1 if anything changed")
    revalidate.add_argument("--device", default="auto", help="cuda:N or cpu; auto picks cuda:0 when there is one")
    add_trial_options(revalidate)
    revalidate.add_argument("--shapes", type=Path, default=None,
                            help="YAML of shapes to verify too (problem: [{CONSTANT: value, ...}]); a kernel "
                                 "is then routed the ones it passes on")
    add_cache_options(revalidate)
    parser.set_defaults(run=run)


def _entries(args: argparse.Namespace) -> list[LibraryEntry]:
    try:
        return read_library(args.library)
    except LibraryError as exc:
        raise UsageError(str(exc)) from None


def _list(args: argparse.Namespace) -> int:
    # Imported here, as export_library below: both load PyTorch, which `kevolve library --help` must not wait for.
    from kevolve.graph.summary import format_ratio

    entries = _entries(args)
    if not entries:
        console.print(f"no kernels in {args.library}")
        return 0
    table = Table("problem", "placement", "node", "precision regime", "policy", "vs eager", "vs compile", "signatures",
                  "status")
    for entry in entries:
        record = entry.record
        status = Text("enabled") if entry.enabled else Text.assemble(("disabled", "red"), ": ",
                                                                      shown(entry.status.reason))
        table.add_row(record.problem, entry.placement, record.node_id, record.math.label, record.policy,
                      format_ratio(record.speedup_eager), format_ratio(record.speedup_compiled),
                      str(len(entry.signatures)), status)
    console.print(table)
    return 0


def _export(args: argparse.Namespace) -> int:
    from kevolve.tools.kernel_library.export import export_library

    try:
        manifest = export_library(args.library, args.to, package=args.package, namespace=args.namespace)
    except LibraryError as exc:
        raise UsageError(str(exc)) from None
    for problem in manifest.problems:
        console.print(f"{problem.op}: {len(problem.kernels)} kernel(s), {problem.routes} verified signature(s)")
    for skipped in manifest.skipped:
        console.print(Text.assemble(("skipped", "yellow"),
                                    shown(f" {skipped.problem} {skipped.node_id or ''}: {skipped.reason}")),
                      highlight=False)
    console.print(f"wrote {args.to / args.package} ({len(manifest.problems)} problem(s)); "
                  f"`import {args.package}` with {args.to} on sys.path")
    return 0


def _report(checks: list[KernelCheck]) -> None:
    table = Table("problem", "placement", "node", "outcome", "why")
    colors = {Outcome.DISABLED: "red", Outcome.RE_ENABLED: "green", Outcome.SKIPPED: "yellow"}
    for check in checks:
        record, color = check.entry.record, colors.get(check.outcome, "default")
        table.add_row(record.problem, check.entry.placement, record.node_id, Text(check.outcome.value, style=color),
                      shown(check.reason))
    console.print(table)
    # One unwrapped line per change, for the logs of a CI job that acts on the exit code.
    for check in checks:
        if check.outcome.changed:
            console.print(shown(f"{check.outcome.value}: {check.entry.record.problem} {check.entry.record.node_id} "
                                f"({check.entry.placement}): {check.reason}"), highlight=False, soft_wrap=True)


def _revalidate(args: argparse.Namespace) -> int:
    if args.trials < 1 or args.timing_trials < 5:
        raise UsageError("--trials must be at least 1 and --timing-trials at least 5")
    entries = _entries(args)
    try:
        declared = DeclaredShapes.load(args.shapes) if args.shapes else None
        if declared is not None:
            declared.check(entries)
    except LibraryError as exc:
        raise UsageError(str(exc)) from None
    settings = EvalSettings(correctness_trials=args.trials,
                            timing=TimingSettings(trials=args.timing_trials,
                                                  min_trials_when_slow=min(20, args.timing_trials)))
    with Evaluator(resolve_device(args.device), settings=settings, cache_dir=args.cache_dir,
                   use_baseline_cache=not args.no_cache) as evaluator:
        checks = revalidate_library(entries, evaluator, settings, declared)
    _report(checks)
    untimed = [c for c in checks if c.outcome is not Outcome.SKIPPED and not c.timing_checked]
    if untimed:
        console.print(f"timings skipped for {len(untimed)} kernel(s): not meaningful on {evaluator.device}; "
                      "correctness was re-checked")
    changed = [c for c in checks if c.outcome.changed]
    console.print(f"{len(checks)} kernel(s) checked, {len(changed)} changed" +
                  ("" if checks else f" (no kernels in {args.library})"))
    return EXIT_CHANGED if changed else EXIT_UNCHANGED


def run(args: argparse.Namespace) -> int:
    verb = args.verb or "list"
    return {"list": _list, "export": _export, "revalidate": _revalidate}[verb](args)
