"""The listener's purge: a batch of events drops the cached days it outdated (entries under an
older version), in this process and in the Redis every gateway shares, and nothing else: not
other days, not other services, not a newer version another process has already cached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID, uuid4

import pytest

from gateway.services.cache import AvailabilityCache, SlotKey
from gateway.services.redisconn import OptionalRedis

DAY_1, DAY_2 = date(2031, 4, 7), date(2031, 4, 8)
SLOTS = '[{"slot_id": "x", "resource_ids": []}]'


@pytest.fixture
async def two_caches(redis_url: str) -> AsyncIterator[tuple[AvailabilityCache, AvailabilityCache]]:
    """Two gateways' caches over one Redis (the second has read nothing yet, so it answers from
    Redis)."""
    a, b = OptionalRedis(redis_url), OptionalRedis(redis_url)
    yield AvailabilityCache(a, 60), AvailabilityCache(b, 60)
    for r in (a, b):
        client = r.client()
        if client is not None:
            await client.aclose()


async def test_a_purged_day_is_gone_everywhere_and_other_days_and_services_stay(
    two_caches: tuple[AvailabilityCache, AvailabilityCache],
) -> None:
    purging, other = two_caches
    service, neighbour = uuid4(), uuid4()
    keys = {(s, d): SlotKey(s, d, None, 7) for s in (service, neighbour) for d in (DAY_1, DAY_2)}
    for key in keys.values():
        await purging.put(key, SLOTS)

    cached = await purging.invalidate_days([(service, DAY_1, 8), (neighbour, DAY_2, 8)])

    assert sorted(cached) == sorted([(service, DAY_1), (neighbour, DAY_2)])
    gone: set[tuple[UUID, date]] = {(service, DAY_1), (neighbour, DAY_2)}
    for where, key in keys.items():
        for cache in (purging, other):
            found = await cache.get(key)
            assert (found is None) == (where in gone), (where, cache is purging, found)
            if cache is other and where not in gone:
                assert found == (SLOTS, "redis"), "the other gateway finds kept days in Redis"


async def test_a_newer_version_cached_by_another_process_survives_the_purge(
    two_caches: tuple[AvailabilityCache, AvailabilityCache],
) -> None:
    """Process `other` heard the event first and cached the day's new version (8); `purging`
    hears it next: the old version goes, the new one stays for every reader."""
    purging, other = two_caches
    service = uuid4()
    old, new = SlotKey(service, DAY_1, None, 7), SlotKey(service, DAY_1, None, 8)
    await purging.put(old, SLOTS)
    await other.put(new, SLOTS)

    cached = await purging.invalidate_days([(service, DAY_1, 8)])

    assert cached == [(service, DAY_1)]
    assert await purging.get(old) is None
    assert await purging.get(new) == (SLOTS, "redis")


async def test_purging_nothing_costs_nothing(
    two_caches: tuple[AvailabilityCache, AvailabilityCache],
) -> None:
    assert await two_caches[0].invalidate_days([]) == []
