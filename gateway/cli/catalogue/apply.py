"""Applying a catalogue file: the location, its resources, services, eligible resources, further
pools, weekly hours and exceptions brought to what the file says, through the api.* functions an
admin calls.

Runs on the caller's connection inside the caller's transaction, as a trusted SQL session (no
claims): the api functions check and write everything, one catalogue:changed event per location
and transaction included. They write nothing for a call that changes nothing, so applying the
same file twice writes nothing the second time. Any error leaves the transaction to be rolled
back: a file is applied whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from gateway.cli.catalogue.errors import CatalogueError
from gateway.cli.catalogue.model import (
    Catalogue,
    Moment,
    Pool,
    Resource,
    ScheduleException,
    Service,
)
from gateway.cli.catalogue.references import References, resolve_references

Row = dict[str, Any]


@dataclass
class ApplyReport:
    """What applying a file changed, and what the location has that the file does not list."""

    changes: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)


def apply_catalogue(
    conn: psycopg.Connection[Any], catalogue: Catalogue, *, cancel_future: bool = False
) -> ApplyReport:
    """Bring the database to what `catalogue` says; the caller commits or rolls back."""
    references = resolve_references(catalogue)
    return _Applier(conn, catalogue, references, cancel_future).run()


def sql_error_message(exc: psycopg.Error) -> str:
    """An error from the api functions as one readable line: message, SQLSTATE, hint."""
    diag = exc.diag
    message = f"{diag.message_primary or exc} ({exc.sqlstate})"
    if exc.sqlstate == "BK020":
        return message + ". Cancel or move them first, or pass --cancel-future to cancel them."
    if diag.message_hint:
        message += f". {diag.message_hint}"
    return message


class _Applier:
    def __init__(
        self,
        conn: psycopg.Connection[Any],
        catalogue: Catalogue,
        references: References,
        cancel_future: bool,
    ) -> None:
        self.conn = conn
        self.catalogue = catalogue
        self.references = references
        self.cancel_future = cancel_future
        self.location_id = catalogue.location.id
        self.report = ApplyReport()

    def call(self, where: str, query: str, params: dict[str, Any]) -> Any:
        """The one value `query` returns; a database error becomes a CatalogueError at `where`."""
        try:
            row = self.conn.execute(query, params).fetchone()
        except psycopg.Error as exc:
            if exc.sqlstate is None:  # not an answer from the database (connection lost, ...)
                raise
            raise CatalogueError(where, sql_error_message(exc)) from None
        assert row is not None
        return row[0]

    def current(self, table: str, entry_id: UUID) -> Row | None:
        """An entry's location and version now, or None when there is no such entry."""
        location_column = "id" if table == "locations" else "location_id"
        cursor = self.conn.execute(
            f"select {location_column}, version from booking.{table} where id = %s", (entry_id,)
        )
        row = cursor.fetchone()
        return None if row is None else {"location_id": row[0], "version": row[1]}

    def run(self) -> ApplyReport:
        self.apply_location()
        for i, resource in enumerate(self.catalogue.resources):
            self.apply_resource(i, resource)
        for i, service in enumerate(self.catalogue.services):
            self.apply_service(
                i,
                service,
                self.references.service_resources[i],
                self.references.service_pools[i],
            )
        for i, resource in enumerate(self.catalogue.resources):
            self.apply_hours(i, resource)
        if self.catalogue.exceptions is not None:
            self.apply_exceptions(self.catalogue.exceptions)
        self.close_location()
        self.note_entries_not_in_file()
        return self.report

    def changed(self, what: str, before: Row | None, after: Row) -> None:
        if before is None:
            self.report.changes.append(f"{what}: created")
        elif after["version"] != before["version"]:
            self.report.changes.append(f"{what}: changed")

    def apply_location(self) -> None:
        loc = self.catalogue.location
        what = f"location {loc.name!r}"
        before = self.current("locations", loc.id)
        if before is None:
            after = self.call(
                "location",
                "select api.create_location(p_name => %(name)s::text,"
                " p_time_zone => %(zone)s::text,"
                " p_max_live_holds_per_customer => %(cap)s::integer, p_id => %(id)s::uuid)",
                {
                    "name": loc.name,
                    "zone": loc.time_zone,
                    "cap": loc.max_live_holds_per_customer,
                    "id": loc.id,
                },
            )
        else:
            # a closing comes last (close_location): resources and services are changed first
            after = self.call(
                "location",
                "select api.update_location(p_location_id => %(id)s::uuid,"
                " p_name => %(name)s::text, p_time_zone => %(zone)s::text,"
                " p_max_live_holds_per_customer => %(cap)s::integer,"
                " p_active => %(active)s::boolean)",
                {
                    "id": loc.id,
                    "name": loc.name,
                    "zone": loc.time_zone,
                    "cap": loc.max_live_holds_per_customer,
                    "active": True if loc.active else None,
                },
            )
        self.changed(what, before, after)

    def close_location(self) -> None:
        loc = self.catalogue.location
        if loc.active:
            return
        before = self.current("locations", loc.id)
        after = self.call(
            "location.active",
            "select api.update_location(p_location_id => %(id)s::uuid, p_active => false,"
            " p_cancel_future => %(cancel)s::boolean)",
            {"id": loc.id, "cancel": self.cancel_future},
        )
        self.changed(f"location {loc.name!r}", before, after)

    def own_entry(self, table: str, where: str, entry_id: UUID) -> Row | None:
        """The entry's current version, after checking it is not another location's."""
        before = self.current(table, entry_id)
        if before is not None and before["location_id"] != self.location_id:
            raise CatalogueError(
                f"{where}.id", f"{entry_id} belongs to another location ({before['location_id']})"
            )
        return before

    def apply_resource(self, i: int, resource: Resource) -> None:
        where = f"resources[{i}]"
        before = self.own_entry("resources", where, resource.id)
        if before is None:
            after = self.call(
                where,
                "select api.create_resource(p_location_id => %(loc)s::uuid,"
                " p_name => %(name)s::text, p_kind => %(kind)s::text, p_id => %(id)s::uuid,"
                " p_capacity => %(capacity)s::integer)",
                {
                    "loc": self.location_id,
                    "name": resource.name,
                    "kind": resource.kind,
                    "id": resource.id,
                    "capacity": resource.capacity,
                },
            )
            self.changed(f"resource {resource.name!r}", before, after)
            if resource.active:
                return
        after = self.call(
            where,
            "select api.update_resource(p_resource_id => %(id)s::uuid, p_name => %(name)s::text,"
            " p_kind => %(kind)s::text, p_active => %(active)s::boolean,"
            " p_cancel_future => %(cancel)s::boolean, p_capacity => %(capacity)s::integer)",
            {
                "id": resource.id,
                "name": resource.name,
                "kind": resource.kind,
                "active": resource.active,
                "cancel": self.cancel_future,
                "capacity": resource.capacity,
            },
        )
        if before is not None:
            self.changed(f"resource {resource.name!r}", before, after)

    def apply_service(
        self, i: int, service: Service, resource_ids: list[UUID], pool_ids: list[list[UUID]]
    ) -> None:
        where = f"services[{i}]"
        what = f"service {service.name!r}"
        before = self.own_entry("services", where, service.id)
        cleared = before is not None and self.clear_pools_in_the_way(where, service, resource_ids)
        if cleared:
            before = self.current("services", service.id)
        settings = {
            "id": service.id,
            "name": service.name,
            "duration": str(service.duration),
            "buffer_before": str(service.buffer_before),
            "buffer_after": str(service.buffer_after),
            "slot_step": str(service.slot_step),
            "min_notice": str(service.min_notice),
            "max_advance": str(service.max_advance),
            "hold_ttl": str(service.hold_ttl),
            "strategy": service.conflict_strategy,
            "price": service.price,
            "currency": service.currency,
            "max_seats": service.max_seats,
        }
        named_settings = (
            "p_name => %(name)s::text, p_duration => %(duration)s::interval,"
            " p_buffer_before => %(buffer_before)s::interval,"
            " p_buffer_after => %(buffer_after)s::interval, p_slot_step => %(slot_step)s::interval,"
            " p_min_notice => %(min_notice)s::interval, p_max_advance => %(max_advance)s::interval,"
            " p_hold_ttl => %(hold_ttl)s::interval, p_conflict_strategy => %(strategy)s::text,"
            " p_price => %(price)s::numeric, p_currency => %(currency)s::text,"
            " p_max_seats => %(max_seats)s::integer"
        )
        if before is None:
            after = self.call(
                where,
                f"select api.create_service(p_location_id => %(loc)s::uuid, {named_settings},"
                " p_id => %(id)s::uuid)",
                {**settings, "loc": self.location_id},
            )
            self.changed(what, before, after)
        if before is not None or not service.active:
            updated = self.call(
                where,
                f"select api.update_service(p_service_id => %(id)s::uuid, {named_settings},"
                " p_active => %(active)s::boolean, p_cancel_future => %(cancel)s::boolean)",
                {**settings, "active": service.active, "cancel": self.cancel_future},
            )
            if before is not None:
                self.changed(what, before, updated)
            after = updated
        listed = self.call(
            f"{where}.resources",
            "select api.set_service_resources(p_service_id => %(id)s::uuid,"
            " p_resource_ids => %(ids)s::uuid[])",
            {"id": service.id, "ids": resource_ids},
        )
        if before is not None and listed["version"] != after["version"]:
            self.report.changes.append(f"{what}: resources changed")
        pools = self.call(
            f"{where}.pools",
            "select api.set_service_pools(p_service_id => %(id)s::uuid,"
            " p_pools => %(pools)s::jsonb)",
            {"id": service.id, "pools": Jsonb(_pools_json(service.pools, pool_ids))},
        )
        if before is not None and (cleared or pools["version"] != listed["version"]):
            self.report.changes.append(f"{what}: pools changed")

    def clear_pools_in_the_way(
        self, where: str, service: Service, resource_ids: list[UUID]
    ) -> bool:
        """The service's pools are removed first when what the file says cannot be reached with
        them in place: a resource the file puts among those that perform the service is in one of
        its pools now (a resource is in one pool of a service), or a pool starts at or after the
        file's duration. The file's pools are set again after the resources. Whether it did."""
        in_the_way: bool = self.call(
            where,
            "select exists (select 1 from booking.service_pools p where p.service_id = %(id)s"
            "               and p.starts_after >= %(duration)s::interval)"
            "    or exists (select 1 from booking.service_resources sr where sr.service_id = %(id)s"
            "               and sr.pool > 1 and sr.resource_id = any(%(ids)s::uuid[]))",
            {"id": service.id, "duration": str(service.duration), "ids": resource_ids},
        )
        if in_the_way:
            self.call(
                f"{where}.pools",
                "select api.set_service_pools(p_service_id => %(id)s::uuid, p_pools => '[]')",
                {"id": service.id},
            )
        return in_the_way

    def apply_hours(self, i: int, resource: Resource) -> None:
        before = self.current("resources", resource.id)
        assert before is not None
        after = self.call(
            f"resources[{i}].hours",
            "select api.set_working_hours(p_resource_id => %(id)s::uuid,"
            " p_hours => %(hours)s::jsonb)",
            {"id": resource.id, "hours": Jsonb(resource.hours.as_api_json())},
        )
        if after["version"] != before["version"]:
            self.report.changes.append(f"resource {resource.name!r}: working hours changed")

    def instant(self, moment: Moment, zone: str) -> datetime:
        """A moment of the file as an instant: a local wall time is read in the location's zone."""
        if moment.at.tzinfo is not None:
            return moment.at
        found: datetime = self.call(
            "",
            "select %(at)s::timestamp at time zone %(zone)s::text",
            {"at": moment.at, "zone": zone},
        )
        return found

    def apply_exceptions(self, wanted: list[ScheduleException]) -> None:
        """The location's exceptions become exactly the file's: those not listed are removed,
        those missing are added (an exception is matched by all it says, it has no id)."""
        zone: str = self.call(
            "location",
            "select time_zone from booking.locations where id = %(id)s",
            {"id": self.location_id},
        )
        rows = self.conn.execute(
            "select id, kind, resource_id, lower(period), upper(period), note"
            " from booking.schedule_exceptions where location_id = %s order by lower(period), id",
            (self.location_id,),
        ).fetchall()
        existing: dict[UUID, tuple[Any, ...]] = {row[0]: tuple(row[1:]) for row in rows}
        to_add: list[tuple[int, tuple[Any, ...]]] = []
        for i, exception in enumerate(wanted):
            key = (
                exception.kind,
                self.references.exception_resources[i],
                self.instant(exception.start, zone),
                self.instant(exception.end, zone),
                exception.note,
            )
            match = next((eid for eid, found in existing.items() if found == key), None)
            if match is None:
                to_add.append((i, key))
            else:
                del existing[match]
        for exception_id in existing:
            removed = self.call(
                "exceptions",
                "select api.remove_schedule_exception(p_exception_id => %(id)s::uuid)",
                {"id": exception_id},
            )
            self.report.changes.append(f"{_exception_words(removed)}: removed")
        for i, (kind, resource_id, start, end, note) in to_add:
            added = self.call(
                f"exceptions[{i}]",
                "select api.add_schedule_exception(p_location_id => %(loc)s::uuid,"
                " p_kind => %(kind)s::text, p_start => %(start)s::timestamptz,"
                " p_end => %(end)s::timestamptz, p_resource_id => %(resource)s::uuid,"
                " p_note => %(note)s::text)",
                {
                    "loc": self.location_id,
                    "kind": kind,
                    "start": start,
                    "end": end,
                    "resource": resource_id,
                    "note": note,
                },
            )
            self.report.changes.append(f"{_exception_words(added)}: added")

    def note_entries_not_in_file(self) -> None:
        for table, entries, noun in (
            ("resources", self.catalogue.resources, "resource"),
            ("services", self.catalogue.services, "service"),
        ):
            listed = [e.id for e in entries]
            rows = self.conn.execute(
                f"select id, name from booking.{table}"
                " where location_id = %s and not (id = any(%s)) order by created_at, id",
                (self.location_id, listed),
            ).fetchall()
            self.report.not_in_file.extend(f"{noun} {name!r} ({rid})" for rid, name in rows)


def _pools_json(pools: list[Pool], pool_ids: list[list[UUID]]) -> list[dict[str, object]]:
    """A service's pools as api.set_service_pools takes them: numbered (a pool without a number
    is numbered by its place, from 2), intervals as text, members by id."""
    return [
        {
            "pool": pool.pool if pool.pool is not None else k + 2,
            "name": pool.name,
            "starts_after": str(pool.starts_after),
            "lasts": None if pool.lasts is None else str(pool.lasts),
            "resource_ids": [str(rid) for rid in ids],
        }
        for k, (pool, ids) in enumerate(zip(pools, pool_ids, strict=True))
    ]


def _exception_words(exception: Row) -> str:
    """An exception as the report names it: kind, and local start and end at the location."""
    return f"{exception['kind']} {exception['start_local']} to {exception['end_local']}"
