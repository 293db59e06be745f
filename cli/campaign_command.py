"""`kevolve campaign run SPEC`, `campaign status [CAMPAIGN]`, `campaign resume CAMPAIGN`: many problems under one
budget, drawn live on the terminal."""

from __future__ import annotations

import argparse
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from rich.live import Live
from rich.table import Table

from kevolve.graph.campaign.location import SPEC_COPY, CampaignPlace, campaign_ids, find_campaign, open_store
from kevolve.graph.campaign.spec import load_spec
from kevolve.graph.campaign.store import CampaignRecord, IntervalLog, ProblemEntry, ProblemState
from kevolve.graph.database import database_url
from kevolve.graph.folders import (
    CAMPAIGNS_DEFAULT,
    CAMPAIGNS_VARIABLE,
    LIBRARY_DEFAULT,
    RUNS_DEFAULT,
    default_campaigns_dir,
    default_library_dir,
    default_runs_dir,
)
from kevolve.tools.knowledge.settings import KnowledgeSettings

from .console import console
from .executor_options import add_executor_options, executor_settings
from .exit_codes import ExitCode
from .options import add_cache_options, resolve_device
from .run_options import llm_settings
from .verb_options import add_verbs_with_options

# The scheduler, its snapshots and views load the graph (LangGraph, PyTorch): imported where used, so that
# the parser answers at once.
if TYPE_CHECKING:
    from kevolve.graph.campaign.scheduler import Campaign
    from kevolve.graph.campaign.snapshot import CampaignSnapshot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_verb = add_verbs_with_options(parser, _add_places, required=True)
    start = add_verb("run", help="start a campaign from its YAML spec")
    start.add_argument("spec", type=Path)
    start.add_argument("--auto-approve", action="store_true",
                       help="approve each problem's best measured win without a person (recorded as such)")
    status = add_verb("status", help="a campaign's problems, results and spending (all campaigns: none given)")
    status.add_argument("campaign", nargs="?", default=None, help="a campaign id or folder")
    resume = add_verb("resume", help="continue a campaign that was stopped or killed")
    resume.add_argument("campaign", help="a campaign id or folder")
    for verb in (start, resume):
        verb.add_argument("--llm-config", type=Path, default=None,
                          help="LLM settings file (YAML; default ./kevolve.yaml when present)")
        verb.add_argument("--no-knowledge", action="store_true", help="plan without the knowledge base")
        add_cache_options(verb)
        add_executor_options(verb)
    start.set_defaults(run=_start)
    status.set_defaults(run=_status)
    resume.set_defaults(run=_resume)


def _add_places(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--campaigns-dir", type=Path,
                        default=default_campaigns_dir(),
                        help=f"where campaigns are kept (default ./{CAMPAIGNS_DEFAULT}, or {CAMPAIGNS_VARIABLE})")
    parser.add_argument("--runs-dir", type=Path, default=default_runs_dir(),
                        help=f"where the campaign's runs are kept, beside any other (default ./{RUNS_DEFAULT})")
    parser.add_argument("--library", type=Path, default=default_library_dir(),
                        help=f"where approved kernels are written (default ./{LIBRARY_DEFAULT})")


def _start(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    spec = spec.model_copy(update={"devices": [resolve_device(device) for device in spec.devices]})
    problems = spec.resolve_problems()
    from kevolve.graph.run_directory import new_run_id

    campaign_id = new_run_id(spec.name)
    folder = args.campaigns_dir / campaign_id
    folder.mkdir(parents=True)
    shutil.copyfile(args.spec, folder / SPEC_COPY)
    store = open_store(folder, database_url=database_url())
    record = CampaignRecord(id=campaign_id, spec=spec, created_at=time.time(), auto_approve=args.auto_approve)
    store.create(record, [ProblemEntry(name=problem.name, position=index, path=str(problem.path))
                          for index, problem in enumerate(problems)])
    console.print(f"campaign [bold]{campaign_id}[/]: {len(problems)} problems on {', '.join(spec.devices)}, "
                  f"precision {spec.evaluation_settings().math.label}; state in {store.description}", highlight=False)
    return _drive(CampaignPlace(folder, store, record), args)


def _resume(args: argparse.Namespace) -> int:
    return _drive(find_campaign(args.campaigns_dir, args.campaign, database_url=database_url()), args)


def _drive(place: CampaignPlace, args: argparse.Namespace) -> int:
    from kevolve.graph.campaign.scheduler import Campaign
    from kevolve.graph.campaign.services import open_campaign_services

    url = database_url()
    log = IntervalLog(place.store, place.record.id)
    knowledge = None if args.no_knowledge else KnowledgeSettings.from_environment()
    services = open_campaign_services(place.record.spec, llm=llm_settings(args), knowledge=knowledge,
                                      record=log.record, executor=executor_settings(args), cache_dir=args.cache_dir,
                                      use_baseline_cache=not args.no_cache, folder=place.folder)
    try:
        campaign = Campaign(place, services, log, runs_root=args.runs_dir, library=args.library,
                            postgres_checkpoints=url is not None)
        final = _watch_live(campaign) if console.is_terminal else _watch_in_lines(campaign)
    finally:
        services.close()
        place.store.close()
    return _outcome(final)


def _watch_live(campaign: Campaign) -> CampaignSnapshot:
    from .campaign_view import render_snapshot

    latest: dict[str, str] = {}
    with Live(console=console, refresh_per_second=2) as live:
        def show(snapshot: CampaignSnapshot) -> None:
            live.update(render_snapshot(snapshot, last_events=latest))

        def note(problem: str, event: dict[str, str]) -> None:
            latest[problem] = f"{event['agent']}: {event['message']}"[:80]

        final = campaign.run(on_update=show, on_event=note)
        live.update(render_snapshot(final))
    return final


def _watch_in_lines(campaign: Campaign) -> CampaignSnapshot:
    from .campaign_view import ProgressLines, render_snapshot

    progress = ProgressLines()

    def show(snapshot: CampaignSnapshot) -> None:
        for line in progress.changes(snapshot):
            console.print(line, highlight=False, markup=False, soft_wrap=True)

    final = campaign.run(on_update=show)
    console.print(render_snapshot(final))
    return final


def _outcome(final: CampaignSnapshot) -> int:
    states = Counter(row.state for row in final.problems)
    if states[ProblemState.FAILED]:
        for row in final.problems:
            if row.state is ProblemState.FAILED:
                console.print(f"[bold red]{row.name}[/] failed: {row.detail}", highlight=False)
        console.print(f"continue with: kevolve campaign resume {final.id}", highlight=False)
        return ExitCode.ANSWER_IS_NO
    if states[ProblemState.WAITING]:
        console.print(f"{states[ProblemState.WAITING]} kernels wait for approval: kevolve review", highlight=False)
        return ExitCode.WAITING_FOR_APPROVAL
    return ExitCode.DONE


def _status(args: argparse.Namespace) -> int:
    from .campaign_view import render_snapshot

    url = database_url()
    if args.campaign is not None:
        place = find_campaign(args.campaigns_dir, args.campaign, database_url=url)
        with place.store:
            console.print(render_snapshot(_read(place, args.runs_dir)))
        return 0
    ids = campaign_ids(args.campaigns_dir, database_url=url)
    if not ids:
        console.print(f"no campaigns in {args.campaigns_dir if url is None else 'PostgreSQL'}")
        return 0
    table = Table("problems", "states")
    table.add_column("campaign", no_wrap=True)  # what a person copies into `campaign status` or `resume`
    for campaign_id in ids:
        place = find_campaign(args.campaigns_dir, campaign_id, database_url=url)
        with place.store:
            entries = place.store.problems(campaign_id)
        states = Counter(entry.state.value for entry in entries)
        table.add_row(str(len(entries)), ", ".join(f"{n} {state}" for state, n in states.items()), campaign_id)
    console.print(table)
    return 0


def _read(place: CampaignPlace, runs_root: Path) -> CampaignSnapshot:
    from kevolve.graph.campaign.snapshot import read_snapshot

    return read_snapshot(place.record, place.store.problems(place.record.id),
                         place.store.evaluations(place.record.id), runs_root=runs_root)
