"""`kevolve report RUN_OR_CAMPAIGN [--out DIR]`: the morning report as one self-contained HTML page, markdown
and JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kevolve.graph.campaign.location import find_campaign
from kevolve.graph.campaign.store import CampaignNotFound
from kevolve.graph.database import database_url
from kevolve.graph.folders import default_campaigns_dir, default_runs_dir

from .console import console
from .options import UsageError

if TYPE_CHECKING:
    from kevolve.graph.report.model import Report

REPORT_FOLDER = "report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="RUN_OR_CAMPAIGN", help="a campaign id or folder, or a run id or folder")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write report.html, report.md and report.json (default: <its folder>/report)")
    parser.add_argument("--campaigns-dir", type=Path,
                        default=default_campaigns_dir())
    parser.add_argument("--runs-dir", type=Path, default=default_runs_dir())
    parser.set_defaults(run=run)


def _collect(args: argparse.Namespace) -> tuple[Report, Path]:
    # Imported here: reading a run loads PyTorch and LangGraph, which `kevolve report --help` must not wait for.
    from kevolve.graph.report.collect import campaign_report, run_report
    from kevolve.graph.run_directory import RunDirectory, RunNotFound

    try:
        place = find_campaign(args.campaigns_dir, args.target, database_url=database_url())
    except CampaignNotFound:
        place = None
    if place is not None:
        with place.store:
            report = campaign_report(place.record, place.store.problems(place.record.id),
                                     place.store.evaluations(place.record.id), runs_root=args.runs_dir)
        return report, place.folder
    try:
        run = RunDirectory.open(args.runs_dir, args.target)
    except RunNotFound:
        raise UsageError(f"{args.target!r} is neither a campaign (in {args.campaigns_dir}) nor a run "
                         f"(in {args.runs_dir})") from None
    return run_report(run), run.path


def run(args: argparse.Namespace) -> int:
    # Imported here: matplotlib's import would otherwise slow every kevolve command's start.
    from kevolve.graph.report.render import write_report

    report, folder = _collect(args)
    files = write_report(report, args.out or folder / REPORT_FOLDER)
    for kind, path in files.items():
        console.print(f"{kind:>8}: {path}", highlight=False)
    return 0
