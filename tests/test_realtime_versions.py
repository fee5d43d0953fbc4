"""Cached availability answered from the listener's version map, with no SQL: a plain-SQL hold and
a catalogue change reach the next read once the listener has seen them, and with the listener's
connection gone every read asks the database again, so answers stay right."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from gateway.client import BookingClient
from tests.fixtures import HttpCatalogue, next_test_day, running_gateway, with_dbname
from tests.support.availability_reads import PATIENCE, served_from_the_map, starts


async def until_etag_changes(
    c: BookingClient, service_id: str, day: date, etag: str
) -> httpx.Response:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while True:
        r = await c.availability(service_id, day, if_none_match=etag)
        if r.status_code == 200:
            assert r.headers["etag"] != etag
            return r
        assert r.status_code == 304, r.text
        assert loop.time() < deadline, "the listener never reported the change"
        await asyncio.sleep(0.05)


def sql_hold(database_url: str, cat: HttpCatalogue, day: date, hour: int, user: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        hold = conn.execute(
            "select api.create_hold_atomic(null, %s, %s, %s, %s, null, %s)->>'success'",
            (user, cat.solo_service_id, cat.at(day, hour), cat.at(day, hour + 1), f"sess-{user}"),
        ).fetchone()
    assert hold == ("true",)


async def test_a_cached_read_is_answered_from_the_map_and_a_sql_hold_reaches_it(
    gateway_url: str, database_url: str, http_catalogue: HttpCatalogue
) -> None:
    day = next_test_day()
    service = http_catalogue.solo_service_id
    async with BookingClient(gateway_url) as c:
        await c.availability(service, day)
        first = await served_from_the_map(c, service, day)
        etag = first.headers["etag"]
        assert "10:00" in starts(first.json(), day)
        again = await c.availability(service, day, if_none_match=etag)
        assert again.status_code == 304 and again.headers["etag"] == etag

        await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, 10, "map-sql")
        after = await until_etag_changes(c, service, day, etag)
        assert "10:00" not in starts(after.json(), day)
        assert len(starts(after.json(), day)) == len(starts(first.json(), day)) - 1
        fresh = await served_from_the_map(c, service, day)  # the new version is in the map
        assert fresh.headers["etag"] == after.headers["etag"]


async def test_a_catalogue_change_made_in_sql_changes_the_cached_answer(
    gateway_url: str, database_url: str, http_catalogue: HttpCatalogue
) -> None:
    day = next_test_day()
    service = http_catalogue.solo_service_id
    async with BookingClient(gateway_url) as c:
        await c.availability(service, day)
        first = await served_from_the_map(c, service, day)
        assert {"12:00", "13:00"} <= set(starts(first.json(), day))
        with psycopg.connect(database_url) as conn:
            conn.execute(
                "insert into booking.schedule_exceptions (location_id, resource_id, kind, period)"
                " values (%s, %s, 'time_off', tstzrange(%s, %s))",
                (
                    http_catalogue.location_id,
                    http_catalogue.resource_a,
                    http_catalogue.at(day, 12),
                    http_catalogue.at(day, 14),
                ),
            )
        after = await until_etag_changes(c, service, day, first.headers["etag"])
        left = starts(after.json(), day)
        assert "12:00" not in left and "13:00" not in left
        assert len(left) == len(starts(first.json(), day)) - 2


@pytest.mark.fault
async def test_with_the_listener_gone_every_read_asks_the_database(
    database_url: str, http_catalogue: HttpCatalogue
) -> None:
    """The listener's backend is killed and the database refuses new connections, so it cannot
    come back: reads fall back to api.availability_version and see a SQL hold at once."""
    day = next_test_day()
    service = http_catalogue.solo_service_id
    app_name = f"booking-listener-fallback-{secrets.token_hex(3)}"
    env = {
        "BOOKING_LISTENER_APP_NAME": app_name,
        "BOOKING_MAINTENANCE_SECONDS": "0",
        "BOOKING_POOL_MIN": "4",
    }
    with (
        running_gateway(database_url, env) as base,
        psycopg.connect(database_url, autocommit=True) as conn,
        psycopg.connect(with_dbname(database_url, "postgres"), autocommit=True) as admin,
    ):
        row = conn.execute("select current_database()").fetchone()
        assert row is not None
        lock = sql.SQL("alter database {} with allow_connections {}")
        name = sql.Identifier(row[0])
        async with BookingClient(base) as c:
            await c.availability(service, day)
            first = await served_from_the_map(c, service, day)
            etag = first.headers["etag"]
            try:
                admin.execute(lock.format(name, sql.SQL("false")))
                conn.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where application_name = %s",
                    (app_name,),
                )
                ready = await ready_when(c, lambda r: r["listener"] == "degraded")
                assert ready["versions"]["trusted"] is False
                conn.execute(
                    "select api.create_hold_atomic(null, 'map-fallback', %s, %s, %s, null, 's')",
                    (service, http_catalogue.at(day, 15), http_catalogue.at(day, 16)),
                )
                after = await c.availability(service, day, if_none_match=etag)
                assert after.status_code == 200 and after.headers["etag"] != etag
                assert "15:00" not in starts(after.json(), day)
                same = await c.availability(service, day, if_none_match=after.headers["etag"])
                assert same.status_code == 304
                assert (await ready_when(c, lambda r: True))["listener"] == "degraded"
            finally:
                admin.execute(lock.format(name, sql.SQL("true")))
            await ready_when(c, lambda r: r["listener"] == "ok")
            back = await served_from_the_map(c, service, day)
            assert back.headers["etag"] == after.headers["etag"]


async def ready_when(c: BookingClient, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while True:
        body: dict[str, Any] = (await c.request("GET", "/ready")).json()
        if wanted(body):
            return body
        assert loop.time() < deadline, body
        await asyncio.sleep(0.05)
