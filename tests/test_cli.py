"""The `booking` command as an operator meets it: what `migrate` prints, and what `serve` says
when it cannot or should not start (a port in use, the development JWT secret in production).

Every test runs the real command in a subprocess against the shared PostgreSQL.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import psycopg
import pytest
from psycopg import sql

from gateway.app import create_app
from gateway.cli.migrate import MIGRATIONS_DIR, function_files
from gateway.config import DEV_JWT_SECRET, Settings
from testkit.ports import free_port
from tests.support.database import server_url, with_dbname

REAL_SECRET = secrets.token_urlsafe(32)


def booking_env(**changes: str | None) -> dict[str, str]:
    """The environment with `changes` applied (None removes a variable)."""
    env = {k: v for k, v in os.environ.items() if k not in ("BOOKING_JWT_SECRET", "BOOKING_ENV")}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def booking(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def serve_until_healthy(env: dict[str, str]) -> str:
    """Start `booking serve`, wait for /health, stop it; return what it wrote to stderr."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    healthy = False
    try:
        deadline = time.monotonic() + 30
        while not healthy and proc.poll() is None and time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                healthy = r.status_code == 200
            except httpx.HTTPError:
                time.sleep(0.1)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=15)
    assert healthy, stderr
    return stderr


# --- booking migrate -------------------------------------------------------------------------


@pytest.fixture
def fresh_database_url() -> Iterator[str]:
    """An empty database of this test's own on the shared server, dropped afterwards."""
    admin = server_url()
    name = f"booking_cli_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield with_dbname(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def test_migrate_prints_one_line_per_migration_then_the_schema_version(
    fresh_database_url: str,
) -> None:
    migrations = sorted(path.stem for path in MIGRATIONS_DIR.glob("*.sql"))
    functions = len(function_files())
    env = booking_env()

    first = booking("migrate", "--database-url", fresh_database_url, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    lines = first.stdout.splitlines()
    assert len(lines) == len(migrations) + 1, first.stdout
    for line, migration in zip(lines[:-1], migrations, strict=True):
        assert re.fullmatch(rf"applied {migration} \(\d+\.\d\d s\)", line), line
    assert lines[-1] == (
        f"schema version {migrations[-1]}: {len(migrations)} migration(s) applied now,"
        f" {functions} function files re-applied"
    )

    again = booking("migrate", "--database-url", fresh_database_url, env=env)
    assert again.returncode == 0, again.stderr
    assert (again.stdout, again.stderr) == (
        f"schema version {migrations[-1]}: no migration pending,"
        f" {functions} function files re-applied\n",
        "",
    )

    # The pgTAP fixture helpers (sql/tests/helpers/tests_schema.sql) belong to test databases only.
    with psycopg.connect(fresh_database_url) as conn:
        no_tests_schema = conn.execute("select to_regnamespace('tests') is null").fetchone()
    assert no_tests_schema == (True,), "booking migrate installed the `tests` fixture schema"


# --- booking serve: a port already in use ----------------------------------------------------


def test_serve_on_a_port_in_use_exits_with_one_line_naming_how_to_choose_another(
    database_url: str,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = booking(
            "serve", "--port", str(port), env=booking_env(DATABASE_URL=database_url), timeout=30
        )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    hints = [line for line in done.stderr.splitlines() if "already in use" in line]
    assert hints == [
        f"booking serve: port {port} on 127.0.0.1 is already in use; choose another port with"
        f" PORT={port + 1} make run, or booking serve --port {port + 1}"
    ], done.stderr
    # Checked before anything started: no application startup, no migration.
    assert "startup" not in done.stderr.lower(), done.stderr


def test_serve_prints_where_the_demo_page_and_the_api_docs_are(database_url: str) -> None:
    """`make run` shows a person where to look first."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=booking_env(DATABASE_URL=database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    base = f"http://127.0.0.1:{port}"
    assert first == f"live demo: {base}/demo    API docs (try it out): {base}/docs"


# --- booking serve: the development JWT secret -----------------------------------------------


def test_serve_with_the_development_secret_warns_loudly(database_url: str) -> None:
    stderr = serve_until_healthy(booking_env(DATABASE_URL=database_url))
    warnings = [line for line in stderr.splitlines() if "INSECURE" in line]
    assert len(warnings) == 1, stderr
    assert warnings[0].startswith("WARNING ")
    assert "development JWT secret" in warnings[0] and "BOOKING_JWT_SECRET" in warnings[0]


def test_serve_with_a_secret_of_its_own_does_not_warn_even_in_production(
    database_url: str,
) -> None:
    env = booking_env(
        DATABASE_URL=database_url, BOOKING_JWT_SECRET=REAL_SECRET, BOOKING_ENV="production"
    )
    stderr = serve_until_healthy(env)
    assert "INSECURE" not in stderr, stderr


@pytest.mark.parametrize(
    "secret",
    [None, "", DEV_JWT_SECRET],
    ids=["unset", "empty", "the-development-secret"],
)
def test_production_refuses_to_start_without_a_secret_of_its_own(
    secret: str | None, database_url: str
) -> None:
    env = booking_env(
        DATABASE_URL=database_url, BOOKING_ENV="production", BOOKING_JWT_SECRET=secret
    )
    done = booking("serve", "--port", str(free_port()), env=env, timeout=30)
    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        "booking serve: BOOKING_ENV=production refuses the development JWT secret:"
        " set BOOKING_JWT_SECRET to a random secret of 32 bytes or more"
    ], done.stderr


def test_an_unknown_environment_name_is_refused_rather_than_taken_for_development(
    database_url: str,
) -> None:
    env = booking_env(DATABASE_URL=database_url, BOOKING_ENV="prod")
    done = booking("serve", "--port", str(free_port()), env=env, timeout=30)
    assert done.returncode != 0
    assert done.stderr.splitlines() == [
        "booking serve: BOOKING_ENV must be one of development, production, not 'prod'"
    ], done.stderr


def test_the_application_factory_refuses_the_development_secret_in_production_too() -> None:
    """For servers that run `gateway.app:create_app` themselves instead of `booking serve`."""
    settings = replace(
        Settings.from_env(),
        database_url="postgresql://unused",
        environment="production",
        jwt_secret=DEV_JWT_SECRET,
    )
    with pytest.raises(RuntimeError, match="BOOKING_ENV=production refuses"):
        create_app(settings)
    create_app(replace(settings, jwt_secret=REAL_SECRET))
