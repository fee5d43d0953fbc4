"""What the `api.*` functions return, as typed shapes: the engine hands these to the routes, and the
OpenAPI document describes answers with the same types.

The functions return jsonb, which psycopg decodes into dicts; the engine types them with these
TypedDicts without copying (gateway/services/engine.py, `_typed`), so an answer's body is exactly
what the database wrote: the same keys, times formatted as PostgreSQL formats them. The HTTP tests
check the bodies against these shapes (tests/test_http_answers.py, schemathesis)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypedDict

from msgspec import Meta

# Text as the database wrote it (times keep PostgreSQL's formatting), with the JSON Schema format
# the OpenAPI document gives it.
UuidText = Annotated[str, Meta(extra_json_schema={"format": "uuid"})]
TimeText = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
DayText = Annotated[str, Meta(extra_json_schema={"format": "date"})]
# A wall-clock time at the location, as PostgreSQL writes a timestamp without time zone to JSON:
# ISO 8601 without an offset ("2031-03-30T03:00:00"), read with the `time_zone` beside it.
LocalTimeText = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?$",
        description="the wall-clock time at the location (ISO 8601, no offset)",
        extra_json_schema={"format": "local-date-time"},  # as in gateway/http/fields.py
    ),
]
ZoneText = Annotated[str, Meta(description="the location's IANA time zone (Europe/Warsaw)")]
SeatCount = Annotated[
    int, Meta(description="how many seats of its resource it takes (1 but for a class)")
]


class LocalSpan(TypedDict):
    """A span of time as results carry it: the instants, the location's zone and the wall-clock
    times there, so a client needs no zone database."""

    start_time: TimeText
    end_time: TimeText
    time_zone: ZoneText
    start_local: LocalTimeText
    end_local: LocalTimeText


class Alternative(LocalSpan):
    """A free slot offered instead of a taken one."""

    slot_id: str
    resource_id: UuidText


class ConflictPool(TypedDict):
    """The further pool of a service whose resources were all taken (the wash station, while a
    stylist was free): a conflict names it."""

    pool: Annotated[int, Meta(description="2 to 8")]
    name: str


class HoldResult(LocalSpan):
    """A new hold (`api.create_hold_atomic`), its times also on the location's clock. When the
    service's conflict strategy placed it after a conflict, it also says how (conflict_id,
    strategy, outcome, ...; requested_start when placed at another time)."""

    success: Literal[True]
    hold_id: UuidText
    resource_id: UuidText
    expires_at: TimeText
    version: int
    seats: SeatCount
    conflict_id: NotRequired[UuidText]
    strategy: NotRequired[str]
    outcome: NotRequired[str]
    preempted_ids: NotRequired[list[UuidText]]
    arbitration: NotRequired[str]
    requested_start: NotRequired[TimeText]
    requested_start_local: NotRequired[LocalTimeText]


class BookingResult(LocalSpan):
    """A booking as a write left it (create, convert, cancel, reschedule), its times also on the
    location's clock; strategy fields as in HoldResult when a conflict strategy placed it."""

    success: Literal[True]
    booking_id: UuidText
    status: str
    version: int
    resource_id: UuidText
    seats: SeatCount
    conflict_id: NotRequired[UuidText]
    strategy: NotRequired[str]
    outcome: NotRequired[str]
    preempted_ids: NotRequired[list[UuidText]]
    arbitration: NotRequired[str]
    requested_start: NotRequired[TimeText]
    requested_start_local: NotRequired[LocalTimeText]


class ConflictResult(TypedDict):
    """The time is taken, or the booking changed since it was read (`success: false`): answered
    as a 409 or 412 problem carrying these members."""

    success: Literal[False]
    conflict_id: UuidText
    conflict_type: str
    conflict_reason: str
    suggested_action: str
    requires_retry: bool
    retry_after: TimeText | None
    time_zone: ZoneText
    strategy: str
    outcome: str
    status: str
    offered: Alternative | None
    alternatives: list[Alternative]
    pool: NotRequired[ConflictPool]  # a further pool of the service was what was taken
    current_version: NotRequired[int]  # VERSION_CONFLICT
    expected_version: NotRequired[int]


HoldOutcome = HoldResult | ConflictResult
BookingOutcome = BookingResult | ConflictResult


class HoldRelease(TypedDict):
    """`api.release_hold`: the hold's status after the call (released, expired, preempted)."""

    success: Literal[True]
    hold_id: UuidText
    status: str
    version: int


class Reservation(LocalSpan):
    """A hold or booking as its owner (or staff) sees it (`api.get_reservation`), its times also
    on the location's clock."""

    id: UuidText
    status: str
    service_id: UuidText
    resource_id: UuidText
    location_id: UuidText
    expires_at: TimeText | None
    version: int
    seats: SeatCount
    details: dict[str, Any]
    customer: str | None
    cancel_reason: str | None
    created_at: TimeText
    updated_at: TimeText


class ConflictDecision(TypedDict):
    """`api.resolve_conflict` and `api.confirm_conflict`: the outcome, and the hold or booking
    placed for the requester when there is one (its times also on the location's clock)."""

    success: bool
    conflict_id: UuidText
    outcome: str
    offered: NotRequired[Alternative | None]
    cap_overridden: NotRequired[bool | None]
    conflict_reason: NotRequired[str]
    alternatives: NotRequired[list[Alternative]]
    hold_id: NotRequired[UuidText]
    booking_id: NotRequired[UuidText]
    status: NotRequired[str]
    version: NotRequired[int]
    resource_id: NotRequired[UuidText]
    seats: NotRequired[int]
    start_time: NotRequired[TimeText]
    end_time: NotRequired[TimeText]
    time_zone: NotRequired[ZoneText]
    start_local: NotRequired[LocalTimeText]
    end_local: NotRequired[LocalTimeText]
    expires_at: NotRequired[TimeText]


class ActiveConflict(TypedDict):
    """A row of `api.active_conflicts()`."""

    conflict_id: UuidText
    location_id: UuidText
    service_id: UuidText
    resource_id: UuidText | None
    conflict_type: str
    strategy: str
    status: str
    requested_start: TimeText | None
    requested_end: TimeText | None
    offered: Alternative | None
    detected_at: TimeText


class Recommendation(TypedDict):
    """A row of `api.conflict_recommendations()`."""

    service_id: UuidText
    service_name: str
    local_hour: int
    conflicts: int
    recommendation: str
    detail: str


class ConflictMetrics(TypedDict):
    """`api.conflict_metrics`: counts over a window (by_* map a type, strategy or outcome to its
    count)."""

    window_seconds: float
    total: int
    in_window: int
    open: int
    by_type: dict[str, int]
    by_strategy: dict[str, int]
    by_outcome: dict[str, int]
    resolution_success_rate: float | None
    mean_time_to_resolve_ms: float | None


class Health(TypedDict):
    """`api.health()`: what an operator looks at first."""

    status: str
    database_time: TimeText
    server_version: str
    schema_version: str | None
    notify_queue_usage: float
    expired_uncleaned_holds: int
    open_conflicts: int
    last_event_id: int


class WaitlistOffer(TypedDict):
    """The hold offered to a waiting-list entry: convert it with its `session_id`
    (POST /v1/holds/{hold_id}/booking), or decline it."""

    hold_id: UuidText
    session_id: str
    resource_id: UuidText
    expires_at: TimeText


class WaitlistEntry(LocalSpan):
    """A waiting-list entry (`api.get_waitlist_entry`, `api.join_waitlist`, leave, decline): its
    status, place in line (waiting only), the slot on the location's clock, and the open offer."""

    success: Literal[True]
    entry_id: UuidText
    status: str
    position: int | None
    location_id: UuidText
    service_id: UuidText
    resource_id: UuidText | None
    seats: int
    slot_id: str
    customer: str | None
    joined_at: TimeText
    offers: int
    end_reason: str | None
    version: int
    offer: WaitlistOffer | None
    created: NotRequired[bool]  # api.join_waitlist: false when the live entry already existed


class ServiceWaitlist(TypedDict):
    """`api.list_waitlist`: a service's entries by start, each line in order."""

    service_id: UuidText
    location_id: UuidText
    entries: list[WaitlistEntry]
