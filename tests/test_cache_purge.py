"""The listener's purge: a batch of events drops the cached days it outdated, in this process and
in the Redis every gateway shares, and nothing else."""

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

    dropped = await purging.invalidate_days([(service, DAY_1), (neighbour, DAY_2)])

    assert dropped == 2
    gone: set[tuple[UUID, date]] = {(service, DAY_1), (neighbour, DAY_2)}
    for where, key in keys.items():
        for cache in (purging, other):
            found = await cache.get(key)
            assert (found is None) == (where in gone), (where, cache is purging, found)
            if cache is other and where not in gone:
                assert found == (SLOTS, "redis"), "the other gateway finds kept days in Redis"


async def test_purging_nothing_costs_nothing(
    two_caches: tuple[AvailabilityCache, AvailabilityCache],
) -> None:
    assert await two_caches[0].invalidate_days([]) == 0
