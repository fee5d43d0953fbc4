"""Keeping readers off the database when a day changes: readers who miss the same day at once
share one database read, and a day this process had cached is read again by the listener, ahead
of its next reader, when a write outdates it. Answers stay right: the new slots, never the old."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from gateway.client import BookingClient
from tests.fixtures import HttpCatalogue, next_test_day, running_gateway
from tests.support.availability_reads import PATIENCE, metric, starts
from tests.test_realtime_versions import sql_hold


@pytest.fixture(scope="module")
def lone_gateway(database_url: str) -> Iterator[str]:
    """A gateway without Redis: every database read of slots is its own, and counted here."""
    with running_gateway(database_url, {"REDIS_URL": ""}) as base:
        yield base


MISSES = 'booking_cache_requests_total{result="miss"}'
JOINED = 'booking_cache_requests_total{result="joined"}'
REFRESHES = "booking_cache_refreshes_total"


async def test_readers_missing_the_same_day_at_once_share_one_database_read(
    lone_gateway: str, http_catalogue: HttpCatalogue
) -> None:
    day = next_test_day()
    async with httpx.AsyncClient(base_url=lone_gateway) as http:
        before = (await http.get("/metrics")).text
        url = f"/v1/services/{http_catalogue.service_id}/availability"
        answers = await asyncio.gather(
            *(http.get(url, params={"date": day.isoformat()}) for _ in range(40))
        )
        after = (await http.get("/metrics")).text
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1, "every reader got the same answer"
    assert metric(after, MISSES) - metric(before, MISSES) == 1, "one read for them all"
    # the rest joined that read, or came after it and found the day cached
    assert metric(after, JOINED) >= metric(before, JOINED)


async def test_a_write_outdating_a_cached_day_is_read_again_before_its_next_reader(
    lone_gateway: str, database_url: str, http_catalogue: HttpCatalogue
) -> None:
    day = next_test_day()
    service = http_catalogue.solo_service_id
    loop = asyncio.get_running_loop()
    async with BookingClient(lone_gateway) as c:
        first = await c.availability(service, day)  # now cached in this process
        assert "10:00" in starts(first.json(), day)
        refreshed = metric((await c.request("GET", "/metrics")).text, REFRESHES)

        await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, 10, "refresh-sql")
        deadline = loop.time() + PATIENCE
        while metric((await c.request("GET", "/metrics")).text, REFRESHES) == refreshed:
            assert loop.time() < deadline, "the listener never read the day again"
            await asyncio.sleep(0.02)

        misses = metric((await c.request("GET", "/metrics")).text, MISSES)
        after = await c.availability(service, day)
        assert metric((await c.request("GET", "/metrics")).text, MISSES) == misses, (
            "the next reader found the new version cached"
        )
    assert after.headers["etag"] != first.headers["etag"]
    assert "10:00" not in starts(after.json(), day)
    assert len(starts(after.json(), day)) == len(starts(first.json(), day)) - 1
