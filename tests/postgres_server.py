"""A throwaway PostgreSQL server for tests: its own cluster (initdb) on a free port of 127.0.0.1.

Debian's `postgresql` package provides the binaries (/usr/lib/postgresql/<version>/bin; .ci/run
installs it); without them, or without psycopg, the fixtures skip and say why. PostgreSQL refuses to
run as root, so as root (CI) the server runs as the package's `postgres` user, in a folder it owns.

Use in a test folder's conftest.py:  `from postgres_server import postgres_server, postgres_url  # noqa: F401`
`postgres_server` is one server for the session; `postgres_url` is a fresh, empty database per test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from local_ports import free_port

_START_TIMEOUT_S = 60
_SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No server can be started here; the message says why."""


def postgres_bin_dir() -> Path | None:
    """The newest installed server's binaries, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", _SUPERUSER, "--", *command]


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return self.database_url(_SUPERUSER)

    def database_url(self, database: str) -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        subprocess.run([str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", _SUPERUSER,
                        name], check=True, capture_output=True, timeout=30)
        return self.database_url(name)

    def stop(self) -> None:
        subprocess.run(_as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w",
                                        "stop"]), capture_output=True, timeout=_START_TIMEOUT_S)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Initialises and starts a cluster with trust authentication on 127.0.0.1; raises PostgresUnavailable."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable("no server binaries under /usr/lib/postgresql (apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam(_SUPERUSER)
        except KeyError:
            raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server as") from None
    # Under the system temp folder, not pytest's (mode 0700, root's): the server user must reach it.
    root = Path(tempfile.mkdtemp(prefix="kevolve-postgres-"))
    data_dir = root / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        os.chown(root, server_user.pw_uid, server_user.pw_gid)
        os.chown(data_dir, server_user.pw_uid, server_user.pw_gid)
    server = PostgresServer(bin_dir=bin_dir, data_dir=data_dir, port=free_port())
    init = subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", _SUPERUSER,
                                           "--auth=trust", "--encoding=UTF8", "--no-sync"]),
                          capture_output=True, text=True, timeout=120)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
    options = f"-p {server.port} -k {data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l",
                                              str(data_dir / "server.log"), "-o", options, "-w",
                                              "-t", str(_START_TIMEOUT_S), "start"]),
                             capture_output=True, text=True, timeout=_START_TIMEOUT_S + 10)
    if started.returncode != 0:
        log = (data_dir / "server.log").read_text(errors="replace")[-500:] if (data_dir / "server.log").exists() else ""
        server.stop()
        raise PostgresUnavailable(f"the server did not start: {started.stderr.strip()[-300:]} {log}")
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'kevolve[postgres]')")
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database on the session's server, so tests do not see each other's rows."""
    return postgres_server.create_database()
