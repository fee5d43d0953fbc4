"""Shared fixtures: the session database, per-test transactions, a big throwaway server, Redis,
and the real gateway on a free port. Also collects sql/tests/*.sql as pgTAP items."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from testkit.ports import free_port
from testkit.processes import stop
from testkit.throwaway_postgres import ThrowawayPostgres, migrated_server
from testkit.throwaway_redis import start_redis
from tests.support.database import SessionDatabase, with_dbname
from tests.support.pgtap import PgTapFile

_session_db: SessionDatabase | None = None


def session_database() -> SessionDatabase:
    """The session's database, created on first use and dropped when the session ends."""
    global _session_db
    if _session_db is None:
        _session_db = SessionDatabase.create()
    return _session_db


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _session_db
    if _session_db is not None:
        _session_db.drop()
        _session_db = None


PgTapFile.database_url = staticmethod(lambda: session_database().url)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> PgTapFile | None:
    # Only files directly in sql/tests/: sql/tests/helpers/ holds fixtures, not tests.
    if (
        file_path.suffix == ".sql"
        and file_path.parent.name == "tests"
        and file_path.parent.parent.name == "sql"
    ):
        return PgTapFile.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def database_url() -> str:
    """URL of this session's freshly migrated database."""
    return session_database().url


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[dict[str, object]]]:
    """A connection inside a transaction that is rolled back after the test."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        conn.autocommit = False
        try:
            yield conn
        finally:
            conn.rollback()


@pytest.fixture(scope="session")
def big_server() -> Iterator[ThrowawayPostgres]:
    """A server of our own with room for hundreds of connections, migrated, removed at the end."""
    # fsync off: a throwaway server need not survive an OS crash (a killed postgres loses nothing),
    # and the shared disk's flush latency would otherwise dominate the concurrency tests' runtime.
    settings = {"max_connections": "320", "shared_buffers": "128MB", "fsync": "off"}
    with migrated_server(settings) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: $REDIS_URL or 127.0.0.1:6379, else a redis-server started for the session."""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        yield url
        return
    except redis.RedisError:
        if os.environ.get("REDIS_URL"):
            raise
    port = free_port()
    proc = start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def start_gateway(
    database_url: str, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `booking serve` on a free port and wait until /health answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"gateway exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gateway did not answer /health within 30 s")


def stop_gateway(proc: subprocess.Popen[bytes]) -> None:
    """Stop a gateway process: politely, and by force after 10 s (then reap it)."""
    stop(proc)


@contextmanager
def running_gateway(database_url: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The base URL of a gateway (start_gateway) for the block's length, stopped at its end."""
    proc, base = start_gateway(database_url, extra_env)
    try:
        yield base
    finally:
        stop_gateway(proc)


@pytest.fixture(scope="session")
def gateway_url(database_url: str) -> Iterator[str]:
    """Base URL of a real gateway process serving the session database."""
    with running_gateway(database_url) as base:
        yield base


__all__ = ["running_gateway", "start_gateway", "stop_gateway", "with_dbname"]


# --- HTTP gateway tests: a catalogue of their own, tokens, and a gateway with Redis -------------

from dataclasses import dataclass  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from functools import partial  # noqa: E402
from itertools import count  # noqa: E402

from gateway.config import Settings  # noqa: E402
from gateway.http.tokens import mint_token  # noqa: E402
from gateway.principal import Role  # noqa: E402
from tests.support.rows import first_value  # noqa: E402


@dataclass(frozen=True)
class HttpCatalogue:
    """A UTC salon open 08:00-20:00 every day: `service_id` (60 min, two stylists, hourly grid)
    and `solo_service_id` (60 min, one stylist), bookable up to 400 days ahead."""

    location_id: str
    service_id: str
    solo_service_id: str
    resource_a: str
    resource_b: str
    inactive_service_id: str

    def at(self, day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


_http_days = count(3)


def next_test_day() -> date:
    """A day no other HTTP test uses, so tests never see each other's holds."""
    return datetime.now(UTC).date() + timedelta(days=next(_http_days))


@pytest.fixture(scope="session")
def http_catalogue(database_url: str) -> HttpCatalogue:
    return create_http_catalogue(database_url)


def create_http_catalogue(database_url: str) -> HttpCatalogue:
    """The HTTP tests' salon, written into the database at `database_url`."""
    with psycopg.connect(database_url) as conn:
        one = partial(first_value, conn)

        loc = one(
            "insert into booking.locations (name, time_zone) values ('HTTP salon', 'UTC')"
            " returning id"
        )
        res_a = one(
            "insert into booking.resources (location_id, name) values (%s, 'Ala') returning id", loc
        )
        res_b = one(
            "insert into booking.resources (location_id, name) values (%s, 'Ola') returning id", loc
        )
        ids = []
        for name, active in (("Cut", True), ("Solo cut", True), ("Retired", False)):
            ids.append(
                one(
                    "insert into booking.services (location_id, name, duration, slot_step,"
                    " min_notice, max_advance, active)"
                    " values (%s, %s, '1 hour', '1 hour', '0', '400 days', %s)"
                    " returning id",
                    loc,
                    name,
                    active,
                )
            )
        svc, solo, retired = ids
        for service, resource, pref in (
            (svc, res_a, 1),
            (svc, res_b, 2),
            (solo, res_a, 1),
            (retired, res_a, 1),
        ):
            conn.execute(
                "insert into booking.service_resources (location_id, service_id,"
                " resource_id, preference) values (%s, %s, %s, %s)",
                (loc, service, resource, pref),
            )
        conn.execute(
            "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
            " select %s, r, d, booking.timerange('08:00', '20:00')"
            " from unnest(array[%s, %s]::uuid[]) r, generate_series(1, 7) d",
            (loc, res_a, res_b),
        )
    return HttpCatalogue(loc, svc, solo, res_a, res_b, retired)


@pytest.fixture(scope="session")
def mint() -> Callable[..., str]:
    """mint(sub, role='customer', ttl=3600, locations=None) -> a token the session gateways
    accept (locations: the ids a staff or admin token is limited to)."""
    secret = Settings.from_env().jwt_secret

    def _mint(
        sub: str, role: Role = "customer", ttl: int = 3600, locations: list[str] | None = None
    ) -> str:
        return mint_token(secret, sub, role, ttl, locations)

    return _mint


@pytest.fixture(scope="session")
def redis_gateway_url(database_url: str, redis_url: str) -> Iterator[str]:
    """A second gateway process that always has Redis (the shared one)."""
    with running_gateway(database_url, {"REDIS_URL": redis_url}) as base:
        yield base


__all__ += ["HttpCatalogue", "create_http_catalogue", "next_test_day"]


# --- Fault tests: marked `fault`, run by default, skipped with SKIP_FAULT=1 ---------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """SKIP_FAULT=1 skips the tests that kill servers (for a quick local run; CI runs them)."""
    if os.environ.get("SKIP_FAULT", "") not in ("1", "true", "yes"):
        return
    skip = pytest.mark.skip(reason="SKIP_FAULT=1: fault tests skipped for speed")
    for item in items:
        if item.get_closest_marker("fault") is not None:
            item.add_marker(skip)
