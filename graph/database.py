"""Where a team's shared state lives: PostgreSQL when `KEVOLVE_DATABASE_URL` is set, SQLite files otherwise.

The one place that reads the variable, so that every process (a campaign, `kevolve review`, a resume on
another host) finds the same database the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DATABASE_URL_VARIABLE = "KEVOLVE_DATABASE_URL"


class DatabaseUnavailable(RuntimeError):
    """A PostgreSQL URL that is needed and missing, or that does not answer."""


def database_url(environ: Mapping[str, str] = os.environ) -> str | None:
    return environ.get(DATABASE_URL_VARIABLE) or None


def connect_postgres(url: str, **options: Any) -> Any:
    """An autocommit psycopg connection; raises DatabaseUnavailable with the server's reason."""
    try:
        import psycopg
    except ImportError:
        raise DatabaseUnavailable(f"{DATABASE_URL_VARIABLE} is set but psycopg is not installed: "
                                  "pip install 'kevolve[postgres]'") from None

    try:
        return psycopg.connect(url, autocommit=True, **options)
    except psycopg.OperationalError as error:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL ({DATABASE_URL_VARIABLE}): {error}") from None
