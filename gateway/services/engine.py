"""One thin method per `api.*` function: named arguments, explicit casts, rows into dataclasses,
jsonb results typed with the shapes of gateway/services/results.py (annotated, not copied: the
body a route answers is what the database wrote)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from gateway.principal import Principal
from gateway.realtime.events import Event
from gateway.services import catalogue_sql, event_log
from gateway.services.catalogue_results import (
    CatalogueChange,
    Location,
    LocationSummary,
    Performer,
    Resource,
    ScheduleException,
    Service,
    ServiceDetails,
    ServiceOffer,
    ServicePools,
    ServiceResources,
    WorkingHours,
)
from gateway.services.catalogue_sql import PoolSettings, ServiceSettings
from gateway.services.db import Database
from gateway.services.results import (
    ActiveConflict,
    BookingOutcome,
    ConflictDecision,
    ConflictMetrics,
    Health,
    HoldOutcome,
    HoldRelease,
    Recommendation,
    Reservation,
    ServiceWaitlist,
    WaitlistEntry,
)
from gateway.services.staff_results import BookingSearch, LocationSchedule

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DayVersion:
    day: date
    version: int


@dataclass(frozen=True, slots=True)
class DaySlots:
    """A service's free slots on one local day, as JSON text."""

    day: date
    slots: str


AVAILABILITY_VERSIONS = """
select d::date as day, api.availability_version(p_service_id => %(service)s::uuid,
                                                p_date => d::date) as version
from generate_series(%(from)s::date, %(from)s::date + (%(days)s::int - 1), interval '1 day') d
order by 1
"""

# Slots only: their versions are read first, in an earlier statement, so the slots (read at this
# statement's start) are never older than the version they are cached under.
AVAILABILITY = """
select d::date as day,
       coalesce((select jsonb_agg(jsonb_build_object('slot_id', a.slot_id,
                                                     'start_time', a.start_time,
                                                     'end_time', a.end_time,
                                                     'resource_ids', a.resource_ids,
                                                     'time_zone', a.time_zone,
                                                     'start_local', a.start_local,
                                                     'end_local', a.end_local,
                                                     'seats_left', a.seats_left)
                                  order by a.start_time)
                 from api.get_availability(p_service_id => %(service)s::uuid, p_date => d::date,
                                           p_days => 1, p_resource_id => %(resource)s::uuid) a),
                '[]'::jsonb)::text as slots
from generate_series(%(from)s::date, %(from)s::date + (%(days)s::int - 1), interval '1 day') d
order by 1
"""


# A time the caller gave without an offset is a wall-clock time at the service's location: the
# database resolves it (api.resolve_local_time), refusing one the location's clocks skip. Each
# time travels in one of two parameters, the other NULL: <name> (timestamptz) or <name>_local
# (timestamp without time zone).
def _time(name: str) -> str:
    return (
        f"coalesce(%({name})s::timestamptz,"
        f" api.resolve_local_time(%(service)s::uuid, %({name}_local)s::timestamp))"
    )


def _time_params(name: str, value: datetime | None) -> dict[str, datetime | None]:
    local = value is not None and value.tzinfo is None
    return {name: None if local else value, f"{name}_local": value if local else None}


class Engine:
    """The SQL API as async methods; every call is one statement in one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def availability_versions(
        self, service_id: UUID, day: date, days: int
    ) -> list[DayVersion]:
        return await self.db.fetch_all(
            None,
            AVAILABILITY_VERSIONS,
            {"service": service_id, "from": day, "days": days},
            class_row(DayVersion),
        )

    async def availability(
        self, service_id: UUID, day: date, days: int, resource_id: UUID | None, fence: int = 0
    ) -> list[DaySlots]:
        """Free slots; a replica may answer once it has replayed up to `fence` (an LSN)."""
        return await self.db.fetch_all(
            None,
            AVAILABILITY,
            {"service": service_id, "from": day, "days": days, "resource": resource_id},
            class_row(DaySlots),
            read_only=True,
            fence=fence,
        )

    async def create_hold(
        self,
        who: Principal,
        *,
        slot_id: str | None,
        user_id: str,
        service_id: UUID,
        start: datetime,
        end: datetime | None,
        expires_at: datetime | None,
        session_id: str,
        resource_id: UUID | None,
        seen_version: int | None = None,
        seats: int = 1,
    ) -> HoldOutcome:
        """`start` and `end` are instants, or naive wall-clock times at the service's location."""
        result: HoldOutcome = await self.db.fetch_value(
            who,
            "select api.create_hold_atomic(p_slot_id => %(slot)s::text,"
            " p_user_id => %(user)s::text,"
            f" p_service_id => %(service)s::uuid, p_start_time => {_time('start')},"
            f" p_end_time => {_time('end')}, p_expires_at => %(expires)s::timestamptz,"
            " p_session_id => %(session)s::text, p_resource_id => %(resource)s::uuid,"
            " p_seen_version => %(seen)s::bigint, p_seats => %(seats)s::int)",
            {
                "slot": slot_id,
                "user": user_id,
                "service": service_id,
                **_time_params("start", start),
                **_time_params("end", end),
                "expires": expires_at,
                "session": session_id,
                "resource": resource_id,
                "seen": seen_version,
                "seats": seats,
            },
        )
        return result

    async def release_hold(
        self, who: Principal, hold_id: UUID, session_id: str | None
    ) -> HoldRelease:
        result: HoldRelease = await self.db.fetch_value(
            who,
            "select api.release_hold(p_hold_id => %(id)s::uuid, p_session_id => %(session)s::text)",
            {"id": hold_id, "session": session_id},
        )
        return result

    async def convert_hold(
        self, who: Principal, hold_id: UUID, session_id: str | None, booking_data: Json | None
    ) -> BookingOutcome:
        result: BookingOutcome = await self.db.fetch_value(
            who,
            "select api.convert_hold_to_booking(p_hold_id => %(id)s::uuid,"
            " p_session_id => %(session)s::text, p_booking_data => %(data)s::jsonb)",
            {"id": hold_id, "session": session_id, "data": _jsonb(booking_data)},
        )
        return result

    async def create_booking(
        self,
        who: Principal,
        *,
        service_id: UUID,
        start: datetime,
        user_id: str,
        booking_data: Json | None,
        resource_id: UUID | None,
        idempotency_key: str | None,
        seen_version: int | None = None,
        seats: int = 1,
    ) -> BookingOutcome:
        """`start` is an instant, or a naive wall-clock time at the service's location."""
        result: BookingOutcome = await self.db.fetch_value(
            who,
            "select api.create_booking_atomic(p_service_id => %(service)s::uuid,"
            f" p_start_time => {_time('start')}, p_user_id => %(user)s::text,"
            " p_booking_data => %(data)s::jsonb, p_resource_id => %(resource)s::uuid,"
            " p_idempotency_key => %(key)s::text, p_seen_version => %(seen)s::bigint,"
            " p_seats => %(seats)s::int)",
            {
                "service": service_id,
                **_time_params("start", start),
                "user": user_id,
                "data": _jsonb(booking_data),
                "resource": resource_id,
                "key": idempotency_key,
                "seen": seen_version,
                "seats": seats,
            },
        )
        return result

    async def get_reservation(self, who: Principal, reservation_id: UUID) -> Reservation:
        result: Reservation = await self.db.fetch_value(
            who, "select api.get_reservation(p_id => %(id)s::uuid)", {"id": reservation_id}
        )
        return result

    async def list_reservations(
        self, who: Principal, user_id: str, start: datetime | None, end: datetime | None, limit: int
    ) -> list[Reservation]:
        result: list[Reservation] = await self.db.fetch_value(
            who,
            "select api.list_customer_reservations(p_user_id => %(user)s::text,"
            " p_from => %(from)s::timestamptz, p_to => %(to)s::timestamptz,"
            " p_limit => %(limit)s::int)",
            {"user": user_id, "from": start, "to": end, "limit": limit},
        )
        return result

    async def cancel_booking(
        self, who: Principal, booking_id: UUID, reason: str | None, expected_version: int | None
    ) -> BookingOutcome:
        result: BookingOutcome = await self.db.fetch_value(
            who,
            "select api.cancel_booking(p_booking_id => %(id)s::uuid, p_reason => %(reason)s::text,"
            " p_expected_version => %(version)s::bigint)",
            {"id": booking_id, "reason": reason, "version": expected_version},
        )
        return result

    async def reschedule_booking(
        self,
        who: Principal,
        booking_id: UUID,
        new_start: datetime,
        expected_version: int | None,
        resource_id: UUID | None,
    ) -> BookingOutcome:
        result: BookingOutcome = await self.db.fetch_value(
            who,
            "select api.reschedule_booking(p_booking_id => %(id)s::uuid,"
            " p_new_start => %(start)s::timestamptz, p_expected_version => %(version)s::bigint,"
            " p_resource_id => %(resource)s::uuid)",
            {
                "id": booking_id,
                "start": new_start,
                "version": expected_version,
                "resource": resource_id,
            },
        )
        return result

    # waiting lists: the database checks who may act for whom and where

    async def join_waitlist(
        self,
        who: Principal,
        *,
        user_id: str,
        service_id: UUID,
        start: datetime,
        resource_id: UUID | None,
        seats: int,
    ) -> WaitlistEntry:
        """`start` is an instant, or a naive wall-clock time at the service's location."""
        result: WaitlistEntry = await self.db.fetch_value(
            who,
            "select api.join_waitlist(p_user_id => %(user)s::text,"
            f" p_service_id => %(service)s::uuid, p_start_time => {_time('start')},"
            " p_resource_id => %(resource)s::uuid, p_seats => %(seats)s::int)",
            {
                "user": user_id,
                "service": service_id,
                **_time_params("start", start),
                "resource": resource_id,
                "seats": seats,
            },
        )
        return result

    async def get_waitlist_entry(self, who: Principal, entry_id: UUID) -> WaitlistEntry:
        result: WaitlistEntry = await self.db.fetch_value(
            who, "select api.get_waitlist_entry(p_entry_id => %(id)s::uuid)", {"id": entry_id}
        )
        return result

    async def leave_waitlist(self, who: Principal, entry_id: UUID) -> WaitlistEntry:
        result: WaitlistEntry = await self.db.fetch_value(
            who, "select api.leave_waitlist(p_entry_id => %(id)s::uuid)", {"id": entry_id}
        )
        return result

    async def decline_offer(self, who: Principal, entry_id: UUID) -> WaitlistEntry:
        result: WaitlistEntry = await self.db.fetch_value(
            who, "select api.decline_offer(p_entry_id => %(id)s::uuid)", {"id": entry_id}
        )
        return result

    async def list_customer_waitlist(
        self, who: Principal, user_id: str, include_ended: bool
    ) -> list[WaitlistEntry]:
        result: list[WaitlistEntry] = await self.db.fetch_value(
            who,
            "select api.list_customer_waitlist(p_user_id => %(user)s::text,"
            " p_include_ended => %(ended)s::bool)",
            {"user": user_id, "ended": include_ended},
        )
        return result

    async def list_waitlist(
        self, who: Principal, service_id: UUID, start: datetime | None, include_ended: bool
    ) -> ServiceWaitlist:
        result: ServiceWaitlist = await self.db.fetch_value(
            who,
            "select api.list_waitlist(p_service_id => %(service)s::uuid,"
            " p_start_time => %(start)s::timestamptz, p_include_ended => %(ended)s::bool)",
            {"service": service_id, "start": start, "ended": include_ended},
        )
        return result

    async def acquire_lock(
        self, who: Principal | None, key: str, owner: str, ttl: timedelta
    ) -> int | None:
        token: int | None = await self.db.fetch_value(
            who,
            "select api.acquire_lock(p_key => %(key)s::text, p_owner => %(owner)s::text,"
            " p_ttl => %(ttl)s::interval)",
            {"key": key, "owner": owner, "ttl": ttl},
        )
        return token

    async def renew_lock(
        self, who: Principal | None, key: str, owner: str, token: int, ttl: timedelta
    ) -> bool:
        ok: bool = await self.db.fetch_value(
            who,
            "select api.renew_lock(p_key => %(key)s::text, p_owner => %(owner)s::text,"
            " p_token => %(token)s::bigint, p_ttl => %(ttl)s::interval)",
            {"key": key, "owner": owner, "token": token, "ttl": ttl},
        )
        return ok

    async def release_lock(self, who: Principal | None, key: str, owner: str, token: int) -> bool:
        ok: bool = await self.db.fetch_value(
            who,
            "select api.release_lock(p_key => %(key)s::text, p_owner => %(owner)s::text,"
            " p_token => %(token)s::bigint)",
            {"key": key, "owner": owner, "token": token},
        )
        return ok

    # conflict desk: the database checks the caller's role in each function

    async def active_conflicts(self, who: Principal) -> list[ActiveConflict]:
        items: list[ActiveConflict] = await self.db.fetch_value(
            who,
            "select coalesce(jsonb_agg(to_jsonb(c) order by c.detected_at), '[]'::jsonb)"
            " from api.active_conflicts() c",
            {},
        )
        return items

    async def conflict_recommendations(self, who: Principal) -> list[Recommendation]:
        items: list[Recommendation] = await self.db.fetch_value(
            who,
            "select coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb)"
            " from api.conflict_recommendations() r",
            {},
        )
        return items

    async def conflict_metrics(self, who: Principal, window: timedelta) -> ConflictMetrics:
        result: ConflictMetrics = await self.db.fetch_value(
            who, "select api.conflict_metrics(p_window => %(window)s::interval)", {"window": window}
        )
        return result

    async def resolve_conflict(
        self, who: Principal, conflict_id: UUID, decision: str, note: str | None
    ) -> ConflictDecision:
        result: ConflictDecision = await self.db.fetch_value(
            who,
            "select api.resolve_conflict(p_conflict_id => %(id)s::uuid,"
            " p_decision => %(decision)s::text, p_note => %(note)s::text)",
            {"id": conflict_id, "decision": decision, "note": note},
        )
        return result

    async def confirm_conflict(
        self, who: Principal, conflict_id: UUID, accept: bool
    ) -> ConflictDecision:
        result: ConflictDecision = await self.db.fetch_value(
            who,
            "select api.confirm_conflict(p_conflict_id => %(id)s::uuid,"
            " p_accept => %(accept)s::bool)",
            {"id": conflict_id, "accept": accept},
        )
        return result

    # maintenance (the login role: trusted)

    async def cleanup_expired_holds(self) -> int:
        return int(await self.db.fetch_value(None, "select api.cleanup_expired_holds()", {}))

    async def cleanup_waitlist(self) -> int:
        return int(await self.db.fetch_value(None, "select api.cleanup_waitlist()", {}))

    async def cleanup_expired_locks(self) -> int:
        return int(await self.db.fetch_value(None, "select api.cleanup_expired_locks()", {}))

    async def cleanup_expired_idempotency_keys(self) -> int:
        return int(
            await self.db.fetch_value(None, "select api.cleanup_expired_idempotency_keys()", {})
        )

    async def prune_events(self, older_than: timedelta | None) -> int:
        return int(
            await self.db.fetch_value(
                None,
                "select api.prune_events(p_older_than => %(keep)s::interval)",
                {"keep": older_than},
            )
        )

    # the event log, for websocket replay (the listener reads it on its own connection:
    # services/event_log.py)

    async def event_retention_horizon(self) -> int:
        return int(await self.db.fetch_value(None, "select api.event_retention_horizon()", {}))

    async def read_events(self, after: int, limit: int, topics: list[str] | None) -> list[Event]:
        """Up to `limit` readable events after `after`. With replicas, from one that holds every
        event up to the primary's readable bound, read first: a standby cannot see which
        transactions are still committing on the primary (the read bound's advisory locks), so
        its own bound could skip an event that commits later; capped at the primary's bound and
        fenced at the primary's position read after it, the replica's answer has no gap."""
        if not self.db.replicas_serving:
            return await self.db.fetch_all(
                None,
                event_log.READ,
                {"after": after, "limit": limit, "topics": topics},
                class_row(Event),
            )
        bound = int(await self.db.fetch_value(None, "select api.last_event_id()", {}))
        fence = await self.db.write_position()  # after the bound: past every commit it covers
        return await self.db.fetch_all(
            None,
            event_log.READ_UP_TO,
            {"after": after, "limit": limit, "topics": topics, "bound": bound},
            class_row(Event),
            read_only=True,
            fence=fence,
        )

    # staff views: the database checks the caller's role and locations

    async def location_schedule(
        self, who: Principal, location_id: UUID, day: date, resource_id: UUID | None
    ) -> LocationSchedule:
        result: LocationSchedule = await self.db.fetch_value(
            who,
            "select api.location_schedule(p_location_id => %(location)s::uuid,"
            " p_date => %(day)s::date, p_resource_id => %(resource)s::uuid)",
            {"location": location_id, "day": day, "resource": resource_id},
            read_only=True,
        )
        return result

    async def search_bookings(
        self,
        who: Principal,
        location_id: UUID,
        *,
        customer: str | None,
        first_day: date | None,
        last_day: date | None,
        statuses: list[str] | None,
        limit: int,
        after_start: datetime | None,
        after_id: UUID | None,
    ) -> BookingSearch:
        result: BookingSearch = await self.db.fetch_value(
            who,
            "select api.search_bookings(p_location_id => %(location)s::uuid,"
            " p_customer => %(customer)s::text, p_from => %(from)s::date, p_to => %(to)s::date,"
            " p_statuses => %(statuses)s::text[], p_limit => %(limit)s::int,"
            " p_after_start => %(after_start)s::timestamptz, p_after_id => %(after_id)s::uuid)",
            {
                "location": location_id,
                "customer": customer,
                "from": first_day,
                "to": last_day,
                "statuses": statuses,
                "limit": limit,
                "after_start": after_start,
                "after_id": after_id,
            },
            read_only=True,
        )
        return result

    async def locate(self, entity_id: UUID) -> UUID | None:
        """The location of a service, resource, hold or booking, waiting-list entry, schedule
        exception or conflict in this database, or None (the shard router's lookup)."""
        found: UUID | None = await self.db.fetch_value(
            None, "select api.locate(p_id => %(id)s::uuid)", {"id": entity_id}
        )
        return found

    async def health(self) -> Health:
        result: Health = await self.db.fetch_value(None, "select api.health()", {})
        return result

    # the catalogue (SQL in gateway/services/catalogue_sql.py): public reads, run as the caller
    # when a token was sent and as the login role otherwise; admin changes, whose role and
    # locations the database checks

    async def list_locations(self, who: Principal | None) -> list[LocationSummary]:
        items: list[LocationSummary] = await self.db.fetch_value(
            who, catalogue_sql.LIST_LOCATIONS, {}, read_only=True
        )
        return items

    async def location_services(
        self, who: Principal | None, location_id: UUID
    ) -> list[ServiceOffer]:
        items: list[ServiceOffer] = await self.db.fetch_value(
            who, catalogue_sql.LOCATION_SERVICES, {"location": location_id}, read_only=True
        )
        return items

    async def get_service(self, who: Principal | None, service_id: UUID) -> ServiceDetails:
        result: ServiceDetails = await self.db.fetch_value(
            who, catalogue_sql.GET_SERVICE, {"service": service_id}, read_only=True
        )
        return result

    async def service_resources(self, who: Principal | None, service_id: UUID) -> list[Performer]:
        items: list[Performer] = await self.db.fetch_value(
            who, catalogue_sql.SERVICE_RESOURCES, {"service": service_id}, read_only=True
        )
        return items

    async def create_location(
        self,
        who: Principal,
        *,
        name: str,
        time_zone: str,
        max_live_holds_per_customer: int,
        location_id: UUID | None,
    ) -> Location:
        result: Location = await self.db.fetch_value(
            who,
            "select api.create_location(p_name => %(name)s::text, p_time_zone => %(zone)s::text,"
            " p_max_live_holds_per_customer => %(cap)s::int, p_id => %(id)s::uuid)",
            {
                "name": name,
                "zone": time_zone,
                "cap": max_live_holds_per_customer,
                "id": location_id,
            },
        )
        return result

    async def update_location(
        self,
        who: Principal,
        location_id: UUID,
        expected_version: int | None,
        *,
        name: str | None,
        time_zone: str | None,
        max_live_holds_per_customer: int | None,
        active: bool | None,
        cancel_future: bool,
    ) -> Location:
        result: Location = await self.db.fetch_value(
            who,
            "select api.update_location(p_location_id => %(id)s::uuid,"
            " p_expected_version => %(version)s::bigint, p_name => %(name)s::text,"
            " p_time_zone => %(zone)s::text, p_max_live_holds_per_customer => %(cap)s::int,"
            " p_active => %(active)s::bool, p_cancel_future => %(cancel)s::bool)",
            {
                "id": location_id,
                "version": expected_version,
                "name": name,
                "zone": time_zone,
                "cap": max_live_holds_per_customer,
                "active": active,
                "cancel": cancel_future,
            },
        )
        return result

    async def create_resource(
        self,
        who: Principal,
        location_id: UUID,
        *,
        name: str,
        kind: str,
        capacity: int,
        resource_id: UUID | None,
    ) -> Resource:
        result: Resource = await self.db.fetch_value(
            who,
            "select api.create_resource(p_location_id => %(location)s::uuid,"
            " p_name => %(name)s::text, p_kind => %(kind)s::text, p_id => %(id)s::uuid,"
            " p_capacity => %(capacity)s::int)",
            {
                "location": location_id,
                "name": name,
                "kind": kind,
                "id": resource_id,
                "capacity": capacity,
            },
        )
        return result

    async def update_resource(
        self,
        who: Principal,
        resource_id: UUID,
        expected_version: int | None,
        *,
        name: str | None,
        kind: str | None,
        capacity: int | None,
        active: bool | None,
        cancel_future: bool,
    ) -> Resource:
        result: Resource = await self.db.fetch_value(
            who,
            "select api.update_resource(p_resource_id => %(id)s::uuid,"
            " p_expected_version => %(version)s::bigint, p_name => %(name)s::text,"
            " p_kind => %(kind)s::text, p_active => %(active)s::bool,"
            " p_cancel_future => %(cancel)s::bool, p_capacity => %(capacity)s::int)",
            {
                "id": resource_id,
                "version": expected_version,
                "name": name,
                "kind": kind,
                "active": active,
                "cancel": cancel_future,
                "capacity": capacity,
            },
        )
        return result

    async def create_service(
        self,
        who: Principal,
        location_id: UUID,
        settings: ServiceSettings,
        service_id: UUID | None,
    ) -> Service:
        """Every setting must be given (None would replace the function's default with NULL)."""
        result: Service = await self.db.fetch_value(
            who,
            catalogue_sql.service_row(
                "api.create_service(p_location_id => %(location)s::uuid, p_name => %(name)s::text,"
                f" {catalogue_sql.INTERVAL_ARGUMENTS},"
                " p_conflict_strategy => %(strategy)s::text, p_price => %(price)s::numeric,"
                " p_currency => %(currency)s::text, p_id => %(id)s::uuid,"
                " p_max_seats => %(max_seats)s::int)"
            ),
            {
                "location": location_id,
                **catalogue_sql.service_params(settings),
                "id": service_id,
            },
        )
        return result

    async def update_service(
        self,
        who: Principal,
        service_id: UUID,
        expected_version: int | None,
        settings: ServiceSettings,
        *,
        active: bool | None,
        cancel_future: bool,
    ) -> Service:
        result: Service = await self.db.fetch_value(
            who,
            catalogue_sql.service_row(
                "api.update_service(p_service_id => %(id)s::uuid,"
                " p_expected_version => %(version)s::bigint, p_name => %(name)s::text,"
                f" {catalogue_sql.INTERVAL_ARGUMENTS},"
                " p_conflict_strategy => %(strategy)s::text, p_price => %(price)s::numeric,"
                " p_currency => %(currency)s::text, p_active => %(active)s::bool,"
                " p_cancel_future => %(cancel)s::bool, p_max_seats => %(max_seats)s::int)"
            ),
            {
                "id": service_id,
                "version": expected_version,
                **catalogue_sql.service_params(settings),
                "active": active,
                "cancel": cancel_future,
            },
        )
        return result

    async def set_service_resources(
        self,
        who: Principal,
        service_id: UUID,
        resource_ids: list[UUID],
        expected_version: int | None,
    ) -> ServiceResources:
        result: ServiceResources = await self.db.fetch_value(
            who,
            "select api.set_service_resources(p_service_id => %(id)s::uuid,"
            " p_resource_ids => %(resources)s::uuid[], p_expected_version => %(version)s::bigint)",
            {"id": service_id, "resources": resource_ids, "version": expected_version},
        )
        return result

    async def set_service_pools(
        self,
        who: Principal,
        service_id: UUID,
        pools: list[PoolSettings],
        expected_version: int | None,
    ) -> ServicePools:
        """`pools`: the service's further pools, all of them ([] for none)."""
        from psycopg.types.json import Jsonb

        result: ServicePools = await self.db.fetch_value(
            who,
            catalogue_sql.SET_SERVICE_POOLS,
            {
                "id": service_id,
                "pools": Jsonb([p.as_api_json() for p in pools]),
                "version": expected_version,
            },
        )
        return result

    async def set_working_hours(
        self,
        who: Principal,
        resource_id: UUID,
        hours: list[Json],
        expected_version: int | None,
    ) -> WorkingHours:
        """`hours`: [{weekday, start, end}], the whole week."""
        from psycopg.types.json import Jsonb

        result: WorkingHours = await self.db.fetch_value(
            who,
            "select api.set_working_hours(p_resource_id => %(id)s::uuid,"
            " p_hours => %(hours)s::jsonb, p_expected_version => %(version)s::bigint)",
            {"id": resource_id, "hours": Jsonb(hours), "version": expected_version},
        )
        return result

    async def add_schedule_exception(
        self,
        who: Principal,
        location_id: UUID,
        *,
        kind: str,
        start: datetime,
        end: datetime,
        resource_id: UUID | None,
        note: str | None,
    ) -> ScheduleException:
        result: ScheduleException = await self.db.fetch_value(
            who,
            "select api.add_schedule_exception(p_location_id => %(location)s::uuid,"
            " p_kind => %(kind)s::text, p_start => %(start)s::timestamptz,"
            " p_end => %(end)s::timestamptz, p_resource_id => %(resource)s::uuid,"
            " p_note => %(note)s::text)",
            {
                "location": location_id,
                "kind": kind,
                "start": start,
                "end": end,
                "resource": resource_id,
                "note": note,
            },
        )
        return result

    async def remove_schedule_exception(
        self, who: Principal, exception_id: UUID
    ) -> ScheduleException:
        result: ScheduleException = await self.db.fetch_value(
            who,
            "select api.remove_schedule_exception(p_exception_id => %(id)s::uuid)",
            {"id": exception_id},
        )
        return result

    async def catalogue_audit(
        self,
        who: Principal,
        location_id: UUID,
        *,
        entity_id: UUID | None,
        since: datetime | None,
        limit: int,
    ) -> list[CatalogueChange]:
        items: list[CatalogueChange] = await self.db.fetch_value(
            who,
            "select api.catalogue_audit(p_location_id => %(location)s::uuid,"
            " p_entity_id => %(entity)s::uuid, p_since => %(since)s::timestamptz,"
            " p_limit => %(limit)s::int)",
            {"location": location_id, "entity": entity_id, "since": since, "limit": limit},
        )
        return items


def _jsonb(value: Json | None) -> Any:
    from psycopg.types.json import Jsonb

    return None if value is None else Jsonb(value)
