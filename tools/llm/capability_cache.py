"""Probe results kept as JSON, one file per endpoint and model, so a run (or `kevolve llm check`) probes once.

A run keeps them in its own folder, so a resumed run uses what it found at the start; `llm check`
keeps them under ~/.cache/kevolve/llm/, where a new run looks when its folder has none (a check made
within the hour is not made again; runs only read there). Only a probe that found the endpoint
usable is reused, and only a conclusive one (no failure of the server's: faults.py) is kept: a
server that was down, busy or failing when it was probed is probed again, not remembered as unusable.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from .capabilities import Capabilities, probe_capabilities
from .deadline import WallClock
from .openai_client import endpoint_of
from .settings import ResolvedModelSettings

logger = logging.getLogger(__name__)

# How long a probe `llm check` made stands in for a run's own: a server is restarted with other flags
# more often than that only while someone is watching it.
CHECK_STANDS_FOR = timedelta(hours=1)


def cache_file(directory: Path, endpoint: str, model: str) -> Path:
    # A content hash, not hash(): Python salts str hashes per process.
    key = hashlib.sha256(f"{endpoint}\n{model}".encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model)[:40]
    return directory / f"capabilities-{slug}-{key}.json"


def load_cached(directory: Path, endpoint: str, model: str) -> Capabilities | None:
    path = cache_file(directory, endpoint, model)
    if not path.is_file():
        return None
    try:
        return Capabilities.model_validate_json(path.read_text())
    except (ValidationError, OSError) as error:  # a file from another version, or cut short: probe again
        logger.warning("ignoring the capability cache %s: %s", path, error)
        return None


def save(directory: Path, capabilities: Capabilities) -> Path:
    path = cache_file(directory, capabilities.endpoint, capabilities.model)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole then renamed: a run killed mid-write leaves the old file or none, never half of one.
    partial = path.with_suffix(".partial")
    partial.write_text(capabilities.model_dump_json(indent=2))
    partial.replace(path)
    return path


def capabilities_for(settings: ResolvedModelSettings, cache_dir: Path | None, *, refresh: bool = False,
                     wall: WallClock | None = None, checked_in: Path | None = None) -> tuple[Capabilities, bool]:
    """The cached probe of the role's endpoint and model when it found them usable, else a recent usable one
    from `checked_in` (where `llm check` keeps its probes), else a fresh one (saved when there is a cache
    and the probe is conclusive).

    Returns the capabilities and whether they came from a cache.
    """
    if cache_dir is not None and not refresh:
        cached = load_cached(cache_dir, endpoint_of(settings), settings.model)
        if cached is not None and cached.usable:
            return cached, True
        if cached is not None:
            logger.info("probing %s again: the probe of %s found it unusable", settings.model,
                        f"{cached.probed_at:%Y-%m-%d %H:%M:%S} UTC")
        checked = load_cached(checked_in, endpoint_of(settings), settings.model) if checked_in else None
        if checked is not None and checked.usable and datetime.now(UTC) - checked.probed_at < CHECK_STANDS_FOR:
            save(cache_dir, checked)
            return checked, True
    capabilities = probe_capabilities(settings, wall)
    if cache_dir is not None and capabilities.conclusive:
        save(cache_dir, capabilities)
    return capabilities, False
