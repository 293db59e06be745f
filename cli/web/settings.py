"""What one `kevolve serve` was started with."""

from __future__ import annotations

import getpass
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from kevolve.graph import review_queue


@dataclass(frozen=True)
class ServeSettings:
    runs_dir: Path
    library: Path | None  # None: each run's own library
    open_services: review_queue.OpenServices  # as `kevolve review` opens them, from the same run options
    token: str | None = None  # required for every change when set
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))  # signs the form tokens
    allowed_hosts: list[str] | None = None  # None: any Host header (a non-loopback bind, or tests)
    default_reviewer: str = field(default_factory=getpass.getuser)
