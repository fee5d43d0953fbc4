"""The walking skeleton: migrate, health over HTTP, dev tokens, the invariant under a real race."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import psycopg
import pytest

from gateway.cli.migrate import migrate
from gateway.config import DEV_JWT_SECRET


def test_migrate_twice_changes_nothing(database_url: str) -> None:
    assert migrate(database_url) == []
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select api.health()->>'schema_version'").fetchone()
    assert row is not None and row[0].startswith("0")


def test_health_over_http_reports_database_and_schema_version(gateway_url: str) -> None:
    response = httpx.get(gateway_url + "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["database"]["schema_version"]


def test_token_command_prints_a_verifiable_jwt() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "token",
            "--sub",
            "alice",
            "--role",
            "customer",
            "--ttl",
            "60",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"BOOKING_JWT_SECRET": DEV_JWT_SECRET, "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    claims = jwt.decode(out, DEV_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice" and claims["role"] == "customer"
    assert claims["exp"] - claims["iat"] == 60


@pytest.fixture
def resource(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as conn:
        loc = conn.execute(
            "insert into booking.locations (name) values ('Race salon') returning id"
        )
        location_id = str(loc.fetchone()[0])  # type: ignore[index]
        res = conn.execute(
            "insert into booking.resources (location_id, name) values (%s, 'Ewa') returning id",
            (location_id,),
        )
        resource_id = str(res.fetchone()[0])  # type: ignore[index]
        svc = conn.execute(
            "insert into booking.services (location_id, name, duration)"
            " values (%s, 'Cut', '1 hour') returning id",
            (location_id,),
        )
        service_id = str(svc.fetchone()[0])  # type: ignore[index]
        cust = conn.execute(
            "insert into booking.customers (subject) values (gen_random_uuid()::text) returning id"
        )
        customer_id = str(cust.fetchone()[0])  # type: ignore[index]
    return {
        "location_id": location_id,
        "resource_id": resource_id,
        "service_id": service_id,
        "customer_id": customer_id,
    }


def test_exclusion_constraint_refuses_an_overlap_inserted_by_another_connection_at_once(
    database_url: str, resource: dict[str, str]
) -> None:
    start = datetime(2031, 5, 5, 10, tzinfo=UTC)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def insert(offset_minutes: int) -> None:
        s = start + timedelta(minutes=offset_minutes)
        with psycopg.connect(database_url) as conn:
            barrier.wait()
            try:
                conn.execute(
                    "insert into booking.reservations (location_id, resource_id, service_id,"
                    " customer_id, starts_at, ends_at, occupied, status)"
                    " values (%(l)s, %(r)s, %(s)s, %(c)s, %(a)s, %(b)s, tstzrange(%(a)s, %(b)s),"
                    " 'confirmed')",
                    {
                        "l": resource["location_id"],
                        "r": resource["resource_id"],
                        "s": resource["service_id"],
                        "c": resource["customer_id"],
                        "a": s,
                        "b": s + timedelta(hours=1),
                    },
                )
                conn.commit()
                outcomes.append("inserted")
            except (psycopg.errors.ExclusionViolation, psycopg.errors.DeadlockDetected):
                # two plain INSERTs can each wait for the other's new row: PostgreSQL then aborts
                # one as a deadlock (the API's ON CONFLICT DO NOTHING backs off instead)
                outcomes.append("refused")

    threads = [threading.Thread(target=insert, args=(m,)) for m in (0, 30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["inserted", "refused"]
    with psycopg.connect(database_url) as conn:
        overlaps = conn.execute(
            "select count(*) from booking.reservations a join booking.reservations b"
            " on a.location_id = b.location_id and a.resource_id = b.resource_id and a.id < b.id"
            " and a.occupied && b.occupied"
            " where a.status in ('held','confirmed') and b.status in ('held','confirmed')"
            " and a.resource_id = %s",
            (resource["resource_id"],),
        ).fetchone()
    assert overlaps == (0,)
