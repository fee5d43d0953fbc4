"""Availability as the routes serve it: each day's version (from the listener's version map when
it is trusted, else the database) and free slots (from the cache where current)."""

from __future__ import annotations

import hashlib
from datetime import date
from uuid import UUID

from gateway.services.cache import SlotKey
from gateway.services.engine import DayVersion
from gateway.state import Gateway


def availability_etag(versions: list[DayVersion]) -> str:
    """W/"<version>" for one day; a digest of every day's version for several."""
    if len(versions) == 1:
        return f'W/"{versions[0].version}"'
    joined = ",".join(f"{v.day.isoformat()}={v.version}" for v in versions)
    return f'W/"m{hashlib.sha256(joined.encode()).hexdigest()[:20]}"'


async def day_versions(g: Gateway, service_id: UUID, day: date, days: int) -> list[DayVersion]:
    """Each day's version: from the listener's version map while it is trusted and knows every
    day (no SQL), else from the database, recorded in the map for the next reader."""
    known = g.versions.lookup(service_id, day, days)
    if known is not None:
        g.metrics.versions.labels("map").inc()
        return known
    generation = g.versions.generation
    engine = await g.router.entity(service_id)
    versions = await engine.availability_versions(service_id, day, days)
    g.versions.record(service_id, versions, generation)
    g.metrics.versions.labels("database").inc()
    return versions


async def day_slots(
    g: Gateway,
    service_id: UUID,
    day: date,
    days: int,
    resource_id: UUID | None,
    versions: list[DayVersion] | None = None,
) -> tuple[list[DayVersion], list[str]]:
    """Each day's version and free slots (JSON arrays), from the cache where it is current."""
    if versions is None:
        versions = await day_versions(g, service_id, day, days)
    found: list[str] = []
    for v in versions:
        hit = await g.cache.get(SlotKey(service_id, v.day, resource_id, v.version))
        if hit is None:
            g.metrics.cache.labels("miss").inc()
            break
        g.metrics.cache.labels(f"hit_{hit[1]}").inc()
        found.append(hit[0])
    else:
        if versions and all(v.version > 0 for v in versions):
            return versions, found
    # read after the versions, so never older than them: safe to cache under them (0: not cacheable)
    engine = await g.router.entity(service_id)
    rows = await engine.availability(service_id, day, days, resource_id)
    for v, row in zip(versions, rows, strict=True):
        if v.version > 0:
            await g.cache.put(SlotKey(service_id, row.day, resource_id, v.version), row.slots)
    return versions, [r.slots for r in rows]
