"""A fresh database per test session: random name, migrated once, given pgTAP and the `tests`
fixture schema (sql/tests/helpers/tests_schema.sql, never installed by `booking migrate`), dropped
at the end."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gateway.cli.migrate import migrate

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# The pgTAP files' fixture helpers (tests.create_location, tests.authenticate_as, ...).
TESTS_SCHEMA_SQL = Path(__file__).resolve().parents[2] / "sql/tests/helpers/tests_schema.sql"


def server_url() -> str:
    """The server the tests use: $DATABASE_URL, else the local one on 127.0.0.1:5432."""
    return os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)  # type: ignore[arg-type]


@dataclass
class SessionDatabase:
    admin_url: str
    name: str

    @property
    def url(self) -> str:
        return with_dbname(self.admin_url, self.name)

    @classmethod
    def create(cls) -> SessionDatabase:
        admin = server_url()
        db = cls(admin_url=admin, name=f"booking_test_{secrets.token_hex(4)}")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(db.name)))
        try:
            migrate(db.url)
            with psycopg.connect(db.url, autocommit=True) as conn:
                conn.execute("create extension if not exists pgtap")
                conn.execute(TESTS_SCHEMA_SQL.read_text(encoding="utf-8").encode())
        except BaseException:
            db.drop()
            raise
        return db

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.name))
            )
