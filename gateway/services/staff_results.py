"""What the staff views return (`api.location_schedule`, `api.search_bookings`), as typed shapes:
typed, not copied, as in gateway/services/results.py. Every span carries the location's zone and
its wall-clock times; reservations carry the customer's contact details (staff and admins only)."""

from __future__ import annotations

from typing import Any, TypedDict

from gateway.services.results import DayText, LocalSpan, SeatCount, TimeText, UuidText, ZoneText


class Customer(TypedDict):
    """Who a reservation is for: the token subject and the contact details given with a
    booking (null until given, and after an erase)."""

    subject: str
    name: str | None
    email: str | None
    phone: str | None


class StaffReservation(LocalSpan):
    """A hold or booking as staff see it: its effective status (a lapsed hold reads expired),
    the service's and resource's names, and the customer."""

    id: UuidText
    status: str
    service_id: UuidText
    service_name: str
    resource_id: UuidText
    resource_name: str
    expires_at: TimeText | None
    version: int
    seats: SeatCount
    details: dict[str, Any]
    cancel_reason: str | None
    created_at: TimeText
    updated_at: TimeText
    customer: Customer


class ScheduleException(LocalSpan):
    """Time off, extra hours or a closure touching the day; scope `location` for a closure of
    the whole location, else `resource`."""

    id: UuidText
    kind: str
    scope: str
    note: str | None


class ResourceDay(TypedDict):
    """One resource's local day: its working time, the exceptions touching it, its bookings and
    live holds, and the free gaps (working time no reservation occupies, buffers included)."""

    resource_id: UuidText
    name: str
    kind: str
    active: bool
    working_hours: list[LocalSpan]
    exceptions: list[ScheduleException]
    reservations: list[StaffReservation]
    free: list[LocalSpan]


class LocationSchedule(LocalSpan):
    """`api.location_schedule`: a location's local day (midnight to midnight there: 23 or 25
    hours when the clocks change), per resource by name."""

    location_id: UuidText
    date: DayText
    resources: list[ResourceDay]


class SearchCursor(TypedDict):
    """Where the next page starts: the start_time and id of the last booking of this page."""

    after_start: TimeText
    after_id: UuidText


class BookingSearch(TypedDict):
    """`api.search_bookings`: one page of a location's holds and bookings in start order;
    `next` is null on the last page."""

    location_id: UuidText
    time_zone: ZoneText
    bookings: list[StaffReservation]
    next: SearchCursor | None
