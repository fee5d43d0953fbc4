"""Seeding a catalogue (location, resources, one service, weekly hours) for tests and benchmarks.

Everything is written straight into the private tables by a trusted connection, in one
transaction, so a seed costs one catalogue:changed event. Starts are built in the location's
time zone, the way a salon's screen shows them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

ZONE = "Europe/Warsaw"
EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)


def numbered_uuid(family: int, n: int) -> uuid.UUID:
    """A readable, deterministic id: family in the first group, n in the last (both decimal).

    pgbench scripts rebuild the same id from a random number without a lookup:
    ``(lpad(F::text, 8, '0') || '-0000-4000-8000-' || lpad(N::text, 12, '0'))::uuid``.
    """
    return uuid.UUID(f"{family:08d}-0000-4000-8000-{n:012d}")


@dataclass(frozen=True)
class Catalogue:
    """A seeded location with one service that every one of its resources performs."""

    location_id: uuid.UUID
    service_id: uuid.UUID
    resource_ids: tuple[uuid.UUID, ...]
    duration: timedelta
    slot_step: timedelta
    zone: str = ZONE

    def start(self, day: date, at: time) -> datetime:
        """The instant of a local wall-clock start on a day."""
        return datetime.combine(day, at, tzinfo=ZoneInfo(self.zone))

    def end(self, start: datetime) -> datetime:
        return start + self.duration

    def slot_id(self, start: datetime) -> str:
        utc = start.astimezone(ZoneInfo("UTC"))
        return f"{self.service_id}@{utc:%Y-%m-%dT%H:%M:%SZ}"


def seed_catalogue(
    conn: psycopg.Connection[Any],
    *,
    name: str,
    resources: int,
    duration: timedelta = timedelta(hours=1),
    slot_step: timedelta = timedelta(minutes=15),
    opens: time = time(9),
    closes: time = time(17),
    weekdays: Sequence[int] = EVERY_DAY,
    buffer_before: timedelta = timedelta(0),
    buffer_after: timedelta = timedelta(0),
    hold_ttl: timedelta = timedelta(minutes=10),
    min_notice: timedelta = timedelta(0),
    max_advance: timedelta = timedelta(days=3650),
    resource_ids: Sequence[uuid.UUID] | None = None,
    zone: str = ZONE,
    max_live_holds_per_customer: int | None = None,
) -> Catalogue:
    """Create a location with `resources` staff members who all perform one service and work
    `opens`-`closes` local time on `weekdays` (ISO). Commits before returning."""
    if resource_ids is not None and len(resource_ids) != resources:
        raise ValueError("resource_ids must name exactly `resources` ids")
    ids = (
        list(resource_ids) if resource_ids is not None else [uuid.uuid4() for _ in range(resources)]
    )
    location_id = uuid.uuid4()
    service_id = uuid.uuid4()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "insert into booking.locations (id, name, time_zone) values (%s, %s, %s)",
            (location_id, name, zone),
        )
        if max_live_holds_per_customer is not None:
            cur.execute(
                "update booking.locations set max_live_holds_per_customer = %s where id = %s",
                (max_live_holds_per_customer, location_id),
            )
        cur.executemany(
            "insert into booking.resources (id, location_id, kind, name)"
            " values (%s, %s, 'staff', %s)",
            [(rid, location_id, f"{name} staff {i + 1}") for i, rid in enumerate(ids)],
        )
        cur.execute(
            "insert into booking.services (id, location_id, name, duration, buffer_before,"
            " buffer_after, slot_step, min_notice, max_advance, hold_ttl)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                service_id,
                location_id,
                f"{name} service",
                duration,
                buffer_before,
                buffer_after,
                slot_step,
                min_notice,
                max_advance,
                hold_ttl,
            ),
        )
        cur.executemany(
            "insert into booking.service_resources"
            " (location_id, service_id, resource_id, preference)"
            " values (%s, %s, %s, %s)",
            [(location_id, service_id, rid, i + 1) for i, rid in enumerate(ids)],
        )
        cur.executemany(
            "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
            " values (%s, %s, %s, booking.timerange(%s::time, %s::time))",
            [(location_id, rid, d, opens, closes) for rid in ids for d in weekdays],
        )
    return Catalogue(
        location_id=location_id,
        service_id=service_id,
        resource_ids=tuple(ids),
        duration=duration,
        slot_step=slot_step,
        zone=zone,
    )


def seed_slot_grid(
    conn: psycopg.Connection[Any],
    *,
    name: str,
    resources: int,
    family: int,
    step: timedelta,
    opens: time,
    closes: time,
    zone: str = ZONE,
) -> Catalogue:
    """A benchmark's grid: `resources` staff with predictable ids (numbered_uuid(family, 1..)),
    one service as long as its slot step, so every step of every staff member's day is one slot,
    and a live-hold cap of 100 that no benchmark customer reaches; the location is in `zone`."""
    return seed_catalogue(
        conn,
        name=name,
        resources=resources,
        resource_ids=[numbered_uuid(family, n + 1) for n in range(resources)],
        duration=step,
        slot_step=step,
        opens=opens,
        closes=closes,
        zone=zone,
        max_live_holds_per_customer=100,
    )
