"""Fault test: the database goes away under a running gateway.

While PostgreSQL is down, every request is answered at once with 503 problem+json and
`Retry-After: 1`, never held for the pool's whole wait (30 s) for a connection that cannot be
made. When PostgreSQL is back, the same gateway process serves again without being restarted.

The test starts a PostgreSQL of its own, stops and restarts only that one. Marked `fault`;
SKIP_FAULT=1 skips it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date
from datetime import time as wall

import httpx
import psycopg
import pytest

from gateway.config import Settings
from gateway.http.tokens import mint_token
from testkit.catalogue import Catalogue, seed_catalogue
from testkit.processes import stop
from testkit.throwaway_postgres import (
    ThrowawayPostgres,
    migrated_server,
    restart_after_crash,
)
from tests.fixtures import start_gateway

pytestmark = pytest.mark.fault

SECRET = Settings.from_env().jwt_secret
# Generous for a loaded machine; what it rules out is the pool's 30-second wait.
FAIL_FAST_SECONDS = 3.0
DAY = date(2032, 3, 1)


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL of this module's own, migrated, removed at the end."""
    with migrated_server({"fsync": "off"}) as pg:
        yield pg


def headers(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user, 'customer')}"}


def booking_body(cat: Catalogue, hour: int) -> dict[str, str]:
    return {"service_id": str(cat.service_id), "start_time": cat.start(DAY, wall(hour)).isoformat()}


async def timed_get(http: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await http.get(path, headers=headers("reader"))
    return response, time.monotonic() - started


async def test_database_down_answers_503_at_once_and_the_gateway_recovers_by_itself(
    server: ThrowawayPostgres,
) -> None:
    url = server.url("booking")
    with psycopg.connect(url) as conn:
        cat = seed_catalogue(conn, name="Outage salon", resources=2, opens=wall(9), closes=wall(17))
    proc, base = start_gateway(url, {"REDIS_URL": ""})
    try:
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            first = await http.post("/v1/bookings", json=booking_body(cat, 9), headers=headers("a"))
            assert first.status_code == 201, first.text

            server.stop()
            # One after another: the first requests find the pool's dead connections, the
            # later ones find no connection at all and must not queue for one.
            answers = [await timed_get(http, "/v1/bookings") for _ in range(6)]
            # Many at once, while the database is still down.
            answers += await asyncio.gather(*(timed_get(http, "/v1/bookings") for _ in range(10)))
            for response, seconds in answers:
                assert response.status_code == 503, response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["retry-after"] == "1"
                assert response.json()["status"] == 503
                assert seconds < FAIL_FAST_SECONDS, f"answered after {seconds:.1f} s"

            slowest = max(seconds for _, seconds in answers)
            print(f"database down: {len(answers)} answers, 503 after at most {slowest:.2f} s")

            await asyncio.to_thread(restart_after_crash, server)
            restarted = time.monotonic()
            recovered = await booking_once_served(http, cat)
            print(f"served again {time.monotonic() - restarted:.1f} s after the restart")
            assert recovered.status_code == 201, recovered.text
            listed = await http.get("/v1/bookings", headers=headers("b"))
            assert listed.status_code == 200 and len(listed.json()["items"]) == 1, listed.text
        assert proc.poll() is None, "the gateway was restarted"
    finally:
        stop(proc)


async def booking_once_served(
    http: httpx.AsyncClient, cat: Catalogue, seconds: float = 60
) -> httpx.Response:
    """Ask for the same booking (same key) until the gateway answers it with a non-503."""
    deadline = time.monotonic() + seconds
    while True:
        r = await http.post(
            "/v1/bookings",
            json=booking_body(cat, 10),
            headers={**headers("b"), "Idempotency-Key": "after-the-outage"},
        )
        if r.status_code != 503 or time.monotonic() > deadline:
            return r
        await asyncio.sleep(0.2)
