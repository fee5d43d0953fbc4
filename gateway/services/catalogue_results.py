"""What the catalogue's `api.*` functions return over HTTP, as typed shapes (the catalogue's part of
gateway/services/results.py, kept apart so the two grow independently).

The bodies are what the database wrote, with one change made in SQL by the engine
(gateway/services/catalogue_sql.py): every interval of a service (duration, buffers, grid step,
notice, advance, hold TTL) is given in minutes, as `<name>_minutes`, the unit requests use. A
minute count is a whole number unless the interval was set through SQL to a fraction of a minute;
a month counts as 30 days."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, TypedDict

from msgspec import Meta

from gateway.services.results import DayText, TimeText, UuidText

# a wall-clock time at the location, without an offset (2027-03-28T10:30:00)
LocalTimeText = Annotated[str, Meta(extra_json_schema={"format": "local-date-time"})]
Minutes = Annotated[float, Meta(description="minutes")]


class LocationSummary(TypedDict):
    """An open location as the public sees it (`api.list_locations`)."""

    id: UuidText
    name: str
    time_zone: str


class LocationList(TypedDict):
    items: list[LocationSummary]


class ServiceOffer(TypedDict):
    """An active service of an open location as the public sees it (`api.location_services`):
    next_available_day is the first local day within 14 days with a free slot, or null."""

    id: UuidText
    name: str
    duration_minutes: Minutes
    buffer_before_minutes: Minutes
    buffer_after_minutes: Minutes
    slot_step_minutes: Minutes
    price: float
    currency: str
    time_zone: str
    next_available_day: DayText | None


class ServiceOfferList(TypedDict):
    location_id: UuidText
    items: list[ServiceOffer]


class ServicePool(TypedDict):
    """A further pool of a service: what it needs besides who performs it (a wash station for its
    first 20 minutes), counted from the appointment's start; lasts_minutes null: until the end.
    A booking takes one of its resources, in preference order."""

    pool: int
    name: str
    starts_after_minutes: Minutes
    lasts_minutes: Minutes | None
    resource_ids: list[UuidText]


class ServiceDetails(ServiceOffer):
    """One active service with its location (`api.get_service`) and its further pools
    (`api.service_pools`, their active resources; [] for most services)."""

    location_id: UuidText
    pools: list[ServicePool]


class Performer(TypedDict):
    """A resource a service needs, public fields only (`api.service_resources`): pool 1 performs
    it, pools 2 to 8 are its further pools."""

    id: UuidText
    name: str
    kind: str
    pool: int


class PerformerList(TypedDict):
    """The resources by pool, each pool in the order "any staff" tries them."""

    service_id: UuidText
    items: list[Performer]


class EndedReservations(TypedDict):
    """Added to a deactivation with `cancel_future`: how many bookings were cancelled and holds
    released with it."""

    cancelled_bookings: NotRequired[int]
    released_holds: NotRequired[int]


class Location(EndedReservations):
    """A location as an admin changes it (`api.create_location`, `api.update_location`)."""

    id: UuidText
    name: str
    time_zone: str
    max_live_holds_per_customer: int
    active: bool
    version: int
    created_at: TimeText
    updated_at: TimeText


class Resource(EndedReservations):
    """A staff member, room or piece of equipment (`api.create_resource`, `api.update_resource`)."""

    id: UuidText
    location_id: UuidText
    kind: str
    name: str
    active: bool
    capacity: int
    version: int
    created_at: TimeText
    updated_at: TimeText


class Service(EndedReservations):
    """A service with every setting (`api.create_service`, `api.update_service`)."""

    id: UuidText
    location_id: UuidText
    name: str
    duration_minutes: Minutes
    buffer_before_minutes: Minutes
    buffer_after_minutes: Minutes
    slot_step_minutes: Minutes
    min_notice_minutes: Minutes
    max_advance_minutes: Minutes
    hold_ttl_minutes: Minutes
    conflict_strategy: str
    price: float
    currency: str
    active: bool
    max_seats: int
    version: int
    created_at: TimeText
    updated_at: TimeText


class ServiceResources(TypedDict):
    """Who performs a service, in preference order, and the service's version after the change
    (`api.set_service_resources`)."""

    service_id: UuidText
    location_id: UuidText
    version: int
    resource_ids: list[UuidText]


class ServicePools(TypedDict):
    """A service's further pools, every resource listed (inactive ones too), and the service's
    version after the change (`api.set_service_pools`)."""

    service_id: UuidText
    location_id: UuidText
    version: int
    pools: list[ServicePool]


class WeeklyHours(TypedDict):
    """One range of a resource's week, in the location's local time (1 = Monday)."""

    weekday: int
    start: str
    end: str


class WorkingHours(TypedDict):
    """A resource's whole week, and the resource's version after the change
    (`api.set_working_hours`)."""

    resource_id: UuidText
    location_id: UuidText
    version: int
    hours: list[WeeklyHours]


class ScheduleException(TypedDict):
    """Time off, extra hours or a closure (`api.add_schedule_exception`,
    `api.remove_schedule_exception`); overlapping_bookings (when added): confirmed bookings inside
    it, which stay booked."""

    id: UuidText
    location_id: UuidText
    resource_id: UuidText | None
    kind: str
    start_time: TimeText
    end_time: TimeText
    time_zone: str
    start_local: LocalTimeText
    end_local: LocalTimeText
    note: str | None
    overlapping_bookings: NotRequired[int]


class CatalogueChange(TypedDict):
    """A row of the catalogue's audit trail (`api.catalogue_audit`): the entry before and after,
    as stored (intervals as PostgreSQL writes them)."""

    id: int
    location_id: UuidText
    entity: str
    entity_id: UuidText
    action: str
    actor_subject: str | None
    actor_role: str
    db_user: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: TimeText


class CatalogueAudit(TypedDict):
    """Newest first."""

    location_id: UuidText
    items: list[CatalogueChange]
