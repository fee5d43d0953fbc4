"""Exporting a location as a catalogue file: what applying the file back finds unchanged.

Reads the catalogue tables directly (a trusted SQL session, as `booking migrate`), inactive
entries included. Intervals are read in ISO 8601 and kept field by field (see durations.py);
exception times are written as the location's local time with its offset then.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import psycopg

from gateway.cli.catalogue.durations import Duration
from gateway.cli.catalogue.errors import CatalogueError
from gateway.cli.catalogue.model import (
    WEEKDAYS,
    Catalogue,
    Location,
    Moment,
    Pool,
    Resource,
    ScheduleException,
    Service,
    TimeRange,
    WeeklyHours,
)

INTERVALS = (
    "duration",
    "buffer_before",
    "buffer_after",
    "slot_step",
    "min_notice",
    "max_advance",
    "hold_ttl",
)


def export_catalogue(conn: psycopg.Connection[Any], location_id: UUID) -> Catalogue:
    """The location's whole catalogue, as a file would say it."""
    with conn.transaction():
        conn.execute("set local intervalstyle = 'iso_8601'")
        row = conn.execute(
            "select id, name, time_zone, max_live_holds_per_customer, active"
            " from booking.locations where id = %s",
            (location_id,),
        ).fetchone()
        if row is None:
            raise CatalogueError("--location", f"no location {location_id} in this database")
        location = Location(
            id=row[0],
            name=row[1],
            time_zone=row[2],
            max_live_holds_per_customer=row[3],
            active=row[4],
        )
        resources = _resources(conn, location_id)
        names = _reference_names(resources)
        services = _services(conn, location_id, names)
        exceptions = _exceptions(conn, location_id, names)
    return Catalogue(
        location=location, resources=resources, services=services, exceptions=exceptions
    )


def _reference_names(resources: list[Resource]) -> dict[UUID, str]:
    """How the file names each resource where it refers to one: by name when no other resource
    has it, else by id."""
    counts: dict[str, int] = {}
    for r in resources:
        counts[r.name] = counts.get(r.name, 0) + 1
    return {r.id: r.name if counts[r.name] == 1 else str(r.id) for r in resources}


def _resources(conn: psycopg.Connection[Any], location_id: UUID) -> list[Resource]:
    rows = conn.execute(
        "select r.id, r.name, r.kind, r.capacity, r.active,"
        " booking.working_hours_json(r.location_id, r.id)"
        " from booking.resources r where r.location_id = %s order by r.created_at, r.id",
        (location_id,),
    ).fetchall()
    found = []
    for rid, name, kind, capacity, active, hours in rows:
        week: dict[str, list[TimeRange]] = {day: [] for day in WEEKDAYS}
        for entry in hours:
            week[WEEKDAYS[entry["weekday"] - 1]].append(TimeRange(entry["start"], entry["end"]))
        found.append(
            Resource(
                id=rid,
                name=name,
                kind=kind,
                capacity=capacity,
                active=active,
                hours=WeeklyHours(**week),
            )
        )
    return found


def _services(
    conn: psycopg.Connection[Any], location_id: UUID, names: dict[UUID, str]
) -> list[Service]:
    rows = conn.execute(
        "select s.id, s.name, "
        + ", ".join(f"s.{column}::text" for column in INTERVALS)
        + ", s.conflict_strategy, s.price, s.currency::text, s.max_seats, s.active,"
        " booking.service_resource_ids(s.location_id, s.id)"
        " from booking.services s where s.location_id = %s order by s.created_at, s.id",
        (location_id,),
    ).fetchall()
    pools = _pools(conn, location_id, names)
    found = []
    for row in rows:
        durations = {c: Duration.from_iso(v) for c, v in zip(INTERVALS, row[2:9], strict=True)}
        strategy, price, currency, max_seats, active, resource_ids = row[9:]
        found.append(
            Service(
                id=row[0],
                name=row[1],
                **durations,
                conflict_strategy=strategy,
                price=price,
                currency=currency,
                max_seats=max_seats,
                active=active,
                resources=[names[UUID(rid)] for rid in resource_ids],
                pools=pools.get(row[0], []),
            )
        )
    return found


def _pools(
    conn: psycopg.Connection[Any], location_id: UUID, names: dict[UUID, str]
) -> dict[UUID, list[Pool]]:
    """Each service's further pools by number, with their members in preference order."""
    rows = conn.execute(
        "select p.service_id, p.pool, p.name, p.starts_after::text, p.lasts::text,"
        " array(select sr.resource_id from booking.service_resources sr"
        "       where sr.location_id = p.location_id and sr.service_id = p.service_id"
        "         and sr.pool = p.pool order by sr.preference, sr.resource_id)"
        " from booking.service_pools p where p.location_id = %s order by p.service_id, p.pool",
        (location_id,),
    ).fetchall()
    found: dict[UUID, list[Pool]] = {}
    for service_id, number, name, starts_after, lasts, members in rows:
        found.setdefault(service_id, []).append(
            Pool(
                pool=number,
                name=name,
                starts_after=Duration.from_iso(starts_after),
                lasts=None if lasts is None else Duration.from_iso(lasts),
                resources=[names[rid] for rid in members],
            )
        )
    return found


def _exceptions(
    conn: psycopg.Connection[Any], location_id: UUID, names: dict[UUID, str]
) -> list[ScheduleException]:
    # local wall time and UTC offset at each end, by PostgreSQL's time zone data
    rows = conn.execute(
        "select e.kind, e.resource_id, e.note,"
        " lower(e.period) at time zone l.time_zone,"
        " extract(epoch from (lower(e.period) at time zone l.time_zone)"
        " - (lower(e.period) at time zone 'UTC'))::integer,"
        " upper(e.period) at time zone l.time_zone,"
        " extract(epoch from (upper(e.period) at time zone l.time_zone)"
        " - (upper(e.period) at time zone 'UTC'))::integer"
        " from booking.schedule_exceptions e join booking.locations l on l.id = e.location_id"
        " where e.location_id = %s order by lower(e.period), e.id",
        (location_id,),
    ).fetchall()
    return [
        ScheduleException(
            kind=kind,
            start=_moment(start, start_offset),
            end=_moment(end, end_offset),
            resource=None if resource_id is None else names[resource_id],
            note=note,
        )
        for kind, resource_id, note, start, start_offset, end, end_offset in rows
    ]


def _moment(local: datetime, offset_seconds: int) -> Moment:
    return Moment(local.replace(tzinfo=timezone(timedelta(seconds=offset_seconds))))
