"""Availability as the routes serve it: each day's version (from the listener's version map when
it is trusted, else the database) and free slots (from the cache where current, else from a
replica that has replayed past the versions, else from the primary).

With replicas, slots read on a cache miss are cached under versions read on the primary, so the
replica must hold everything those versions count: the slots read is fenced at the primary's WAL
position read after the versions (a replica behind it leaves the read to the primary). A request
carrying a `Booking-Consistency` fence takes its versions from the database (the version map
answers no such request: it may not yet have seen a write made through another gateway).

Two things keep readers off the database when a day changes:
- **One read per miss.** Readers missing the same (service, days, filter, versions) at once share
  one database read (a task of its own, so a reader that goes away does not cancel it for the
  others); they are counted as `joined`, not as misses.
- **Refresh ahead.** When the listener outdates a (service, day) this process had cached (someone
  read it lately), it starts the shared read of the new version itself, before it purges Redis:
  the next reader joins that read or finds the day cached. A refresh looks in Redis first
  (another process may have done it); its database reads are counted
  (`booking_cache_refreshes_total`), not as readers' misses.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Coroutine, Iterable
from datetime import date
from typing import Any
from uuid import UUID

from gateway.services.cache import SlotKey
from gateway.services.engine import DayVersion
from gateway.state import Gateway

log = logging.getLogger(__name__)

MAX_REFRESHES = 64  # (service, day) pairs refreshed per batch of events; the rest wait for readers
FlightKey = tuple[UUID, date, int, UUID | None, tuple[int, ...]]


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
    reader: bool = True,
) -> tuple[list[DayVersion], list[str]]:
    """Each day's version and free slots (JSON arrays), from the cache where it is current.
    A `reader`'s lookups are counted in the cache metrics (a refresh ahead is counted apart)."""
    if versions is None:
        versions = await day_versions(g, service_id, day, days)
    found: list[str] = []
    for v in versions:
        hit = await g.cache.get(SlotKey(service_id, v.day, resource_id, v.version))
        if hit is None:
            break
        if reader:
            g.metrics.cache.labels(f"hit_{hit[1]}").inc()
        found.append(hit[0])
    else:
        if versions and all(v.version > 0 for v in versions):
            return versions, found
    if not all(v.version > 0 for v in versions):
        # 0 is no version (a write with a smaller event id is still committing): readers on
        # either side of a commit would share it, so each reads for itself
        if reader:
            g.metrics.cache.labels("miss").inc()
        return versions, await _read_slots(g, service_id, day, days, resource_id, versions)
    key: FlightKey = (service_id, day, days, resource_id, tuple(v.version for v in versions))
    flight = g.cache.flights.get(key)
    if flight is None:
        flight = _take_off(g, key, _read_slots(g, service_id, day, days, resource_id, versions))
        if reader:
            g.metrics.cache.labels("miss").inc()
    elif reader:
        g.metrics.cache.labels("joined").inc()
    return versions, await asyncio.shield(flight)


async def _read_slots(
    g: Gateway,
    service_id: UUID,
    day: date,
    days: int,
    resource_id: UUID | None,
    versions: list[DayVersion],
) -> list[str]:
    # read after the versions, so never older than them: safe to cache under them (0: not
    # cacheable); on a replica, fenced at the primary's position now, past every commit the
    # versions count
    engine = await g.router.entity(service_id)  # may ask the shards: before the fence is read
    fence = await g.db.write_position() if g.db.replicas_serving else 0
    rows = await engine.availability(service_id, day, days, resource_id, fence)
    for v, row in zip(versions, rows, strict=True):
        if v.version > 0:
            await g.cache.put(SlotKey(service_id, row.day, resource_id, v.version), row.slots)
    return [r.slots for r in rows]


def _take_off(
    g: Gateway, key: FlightKey, read: Coroutine[Any, Any, list[str]]
) -> asyncio.Future[list[str]]:
    """Start a shared read of slots under `key`: a task of its own (a reader that goes away does
    not cancel it for the others), listed until it lands."""
    flight = asyncio.ensure_future(read)
    g.cache.flights[key] = flight
    flight.add_done_callback(functools.partial(_landed, g, key))
    return flight


def _landed(g: Gateway, key: FlightKey, done: asyncio.Future[list[str]]) -> None:
    if g.cache.flights.get(key) is done:
        del g.cache.flights[key]
    if not done.cancelled():
        done.exception()  # retrieved: every reader that waited has seen it already


def refresh_ahead(g: Gateway, outdated: Iterable[tuple[UUID, date]]) -> None:
    """The relay's call, right after it has recorded the events' versions: start a shared read
    of each (service, day) this process had cached, at its new version, now, so a reader who
    comes next joins it instead of reading for itself. The read looks in Redis first (another
    process may have done it); only database reads are counted as refreshes."""
    for service_id, day in list(outdated)[:MAX_REFRESHES]:
        version = g.versions.version(service_id, day)
        if version is None or version <= 0:
            continue
        versions = [DayVersion(day, version)]
        key: FlightKey = (service_id, day, 1, None, (version,))
        if key in g.cache.flights:
            continue
        _take_off(g, key, _refresh(g, service_id, versions))


async def _refresh(g: Gateway, service_id: UUID, versions: list[DayVersion]) -> list[str]:
    day = versions[0].day
    hit = await g.cache.get(SlotKey(service_id, day, None, versions[0].version))
    if hit is not None:
        return [hit[0]]
    slots = await _read_slots(g, service_id, day, 1, None, versions)
    g.metrics.refreshes.inc()  # counted once cached
    return slots
