"""Where a campaign is kept, and finding it again by its id or folder.

    <campaigns root>/<campaign id>/
        spec.yaml          the spec as it was given (the validated copy is in the state)
        campaign.sqlite    the campaign's state, unless a database URL puts it in PostgreSQL

The runs a campaign makes are ordinary runs in the runs folder, so `kevolve review` and `kevolve optimize
--resume` see them as they see any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .store import STATE_FILE, CampaignNotFound, CampaignRecord, CampaignStore

SPEC_COPY = "spec.yaml"


@dataclass
class CampaignPlace:
    folder: Path
    store: CampaignStore
    record: CampaignRecord


def open_store(folder: Path, *, database_url: str | None) -> CampaignStore:
    return CampaignStore.postgres(database_url) if database_url else CampaignStore.sqlite(folder / STATE_FILE)


def find_campaign(campaigns_root: Path, campaign: str, *, database_url: str | None) -> CampaignPlace:
    """`campaign` is an id under `campaigns_root` or a path to a campaign folder."""
    if database_url:
        folder = campaigns_root / Path(campaign).name
        store = open_store(folder, database_url=database_url)
        try:
            record = store.campaign(folder.name)
        except CampaignNotFound:
            store.close()
            raise
        folder.mkdir(parents=True, exist_ok=True)  # another host resuming it: its probes and logs go here
        return CampaignPlace(folder, store, record)
    for folder in (Path(campaign), campaigns_root / campaign):
        if (folder / STATE_FILE).is_file():
            store = open_store(folder, database_url=None)
            return CampaignPlace(folder, store, store.campaign(folder.name))
    raise CampaignNotFound(f"no campaign {campaign!r} (looked in {campaigns_root} and at {Path(campaign).resolve()})")


def campaign_ids(campaigns_root: Path, *, database_url: str | None) -> list[str]:
    if database_url:
        with CampaignStore.postgres(database_url) as store:
            return store.campaign_ids()
    if not campaigns_root.is_dir():
        return []
    return sorted(folder.name for folder in campaigns_root.iterdir() if (folder / STATE_FILE).is_file())
