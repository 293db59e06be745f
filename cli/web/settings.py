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
    # What one request may cost: a decision form is a few kilobytes, and a page a person reads arrives at once.
    max_body_bytes: int = 64 * 1024
    body_timeout_s: float = 20.0  # from the request's headers to its body's last byte
    header_timeout_s: float = 10.0  # from a connection's opening (or its last response) to a request's headers
    keep_alive_s: float = 5.0  # an idle connection between requests
    max_connections: int = 100  # past it uvicorn answers 503, before file descriptors run out
