"""Bookings: create (idempotent), get, list, cancel and reschedule (If-Match)."""

from __future__ import annotations

from typing import Annotated, TypedDict
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import (
    EXAMPLE_HOLD,
    EXAMPLE_RESOURCE,
    EXAMPLE_SERVICE,
    BookingData,
    IfNoneMatch,
    Instant,
    Seats,
    SeenVersion,
    Text,
    Text500,
    WallOrInstant,
)
from gateway.http.responses import (
    caller,
    conflict_response,
    entry_headers,
    etag_matches,
    expected_version,
    json_response,
)
from gateway.http.spec import Answer, RouteSpec, sqlstates
from gateway.http.validate import body_of, given, header, parse_time, query_of
from gateway.services.results import BookingResult, Reservation
from gateway.sharding.reads import customer_reservations
from gateway.state import gateway

IDEMPOTENCY_HEADER = "Idempotency-Key"
BOOKED_EXAMPLE = {
    "success": True,
    "booking_id": EXAMPLE_HOLD,
    "status": "confirmed",
    "version": 2,
    "resource_id": EXAMPLE_RESOURCE,
    "seats": 1,
    "start_time": "2026-12-07T09:00:00+00:00",
    "end_time": "2026-12-07T10:00:00+00:00",
    "time_zone": "Europe/Warsaw",
    "start_local": "2026-12-07T10:00:00",
    "end_local": "2026-12-07T11:00:00",
}


class BookingRequest(Struct, kw_only=True, frozen=True):
    service_id: UUID
    start_time: WallOrInstant
    resource_id: UUID | UnsetType = UNSET
    booking_data: BookingData | UnsetType = UNSET
    user_id: (
        Annotated[Text, Meta(description="staff/admin only: act for this customer")] | UnsetType
    ) = UNSET
    seen_version: SeenVersion | UnsetType = UNSET
    seats: Seats = 1


class IdempotencyHeader(Struct, frozen=True):
    key: (
        Annotated[
            str,
            Meta(
                min_length=1, max_length=255, description="1 to 255 characters naming this request"
            ),
        ]
        | UnsetType
    ) = field(default=UNSET, name=IDEMPOTENCY_HEADER)


class ReservationQuery(Struct, kw_only=True, frozen=True):
    user_id: Text | UnsetType = UNSET
    start: Instant | UnsetType = field(default=UNSET, name="from")
    end: Instant | UnsetType = field(default=UNSET, name="to")
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class ReservationList(TypedDict):
    user_id: str
    items: list[Reservation]


class BookingPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="hold or booking id")]


class IfMatch(Struct, frozen=True):
    tag: (
        Annotated[
            str,
            Meta(
                pattern=r'^(\*|(W/)?"[0-9]{1,18}")$',
                description='the version you read, as an entity tag: "3" (or * for any)',
            ),
        ]
        | UnsetType
    ) = field(default=UNSET, name="If-Match")


class CancelRequest(Struct, kw_only=True, frozen=True):
    reason: Text500 | UnsetType = UNSET


class RescheduleRequest(Struct, kw_only=True, frozen=True):
    start_time: Instant
    resource_id: UUID | UnsetType = UNSET


async def create_booking(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, BookingRequest, g.settings.max_body_bytes)
    key = header(request, IDEMPOTENCY_HEADER)
    engine = await g.router.entity(b.service_id)
    result = await engine.create_booking(
        who,
        service_id=b.service_id,
        start=parse_time(b.start_time),
        user_id=b.user_id or who.sub,
        booking_data=given(b.booking_data),
        resource_id=given(b.resource_id),
        idempotency_key=key,
        seen_version=given(b.seen_version),
        seats=b.seats,
    )
    g.metrics.outcome(g.metrics.bookings, result)
    if not result["success"]:
        return conflict_response(result)
    if (location := g.router.known(b.service_id)) is not None:
        g.router.remember(UUID(result["booking_id"]), location)
    return json_response(
        result, 201, entry_headers(result["version"], f"/v1/bookings/{result['booking_id']}")
    )


async def get_booking(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    booking_id: UUID = request.path_params["id"]
    result = await (await g.router.entity(booking_id)).get_reservation(who, booking_id)
    etag = f'"{result["version"]}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return json_response(result, headers={"ETag": etag})


async def list_bookings(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    q = query_of(request, ReservationQuery)
    user_id = q.user_id or who.sub
    start, end = given(q.start), given(q.end)
    items = await customer_reservations(
        g.router,
        who,
        user_id,
        None if start is None else parse_time(start),
        None if end is None else parse_time(end),
        q.limit,
    )
    answer: ReservationList = {"user_id": user_id, "items": items}
    return json_response(answer)


async def cancel_booking(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    b = await body_of(request, CancelRequest, g.settings.max_body_bytes)
    booking_id: UUID = request.path_params["id"]
    engine = await g.router.entity(booking_id)
    result = await engine.cancel_booking(who, booking_id, given(b.reason), version)
    if not result["success"]:
        g.metrics.conflicts.labels(result["conflict_type"]).inc()
        return conflict_response(result)
    return json_response(result, headers=entry_headers(result["version"]))


async def reschedule_booking(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    b = await body_of(request, RescheduleRequest, g.settings.max_body_bytes)
    booking_id: UUID = request.path_params["id"]
    engine = await g.router.entity(booking_id)
    result = await engine.reschedule_booking(
        who,
        booking_id,
        parse_time(b.start_time),
        version,
        given(b.resource_id),
    )
    if not result["success"]:
        g.metrics.conflicts.labels(result["conflict_type"]).inc()
        return conflict_response(result)
    return json_response(result, headers=entry_headers(result["version"]))


SPECS = [
    RouteSpec(
        "POST",
        "/v1/bookings",
        create_booking,
        "Book directly; Idempotency-Key makes retries safe",
        "bookings",
        {
            201: Answer(
                "Booked (or the first answer, replayed)",
                BookingResult,
                headers=("ETag",),
                example=BOOKED_EXAMPLE,
            )
        },
        sql="api.create_booking_atomic",
        body=BookingRequest,
        body_example={
            "service_id": EXAMPLE_SERVICE,
            "start_time": "2026-12-07T12:00:00+01:00",
            "booking_data": {"note": "allergic to latex"},
        },
        headers=IdempotencyHeader,
        errors=sqlstates("BK001-BK005", "BK011-BK015", "BK026", "BK027"),
        conflicts=("HOLD_CONFLICT", "BOOKING_CONFLICT", "CACHE_CONFLICT"),
    ),
    RouteSpec(
        "GET",
        "/v1/bookings",
        list_bookings,
        "List your holds and bookings (staff/admin: ?user_id=)",
        "bookings",
        {200: Answer("Newest first", ReservationList)},
        sql="api.list_customer_reservations",
        query=ReservationQuery,
        errors=("BK015",),
    ),
    RouteSpec(
        "GET",
        "/v1/bookings/{id:uuid}",
        get_booking,
        "One hold or booking; ETag is its version",
        "bookings",
        {
            200: Answer("Found", Reservation, headers=("ETag",)),
            304: Answer("Not modified"),
        },
        sql="api.get_reservation",
        path_params=BookingPath,
        headers=IfNoneMatch,
        errors=("BK008",),
    ),
    RouteSpec(
        "POST",
        "/v1/bookings/{id:uuid}/cancel",
        cancel_booking,
        "Cancel a booking; If-Match guards against a stale read",
        "bookings",
        {200: Answer("Cancelled", BookingResult, headers=("ETag",))},
        sql="api.cancel_booking",
        body=CancelRequest,
        body_required=False,
        path_params=BookingPath,
        headers=IfMatch,
        errors=("BK008", "BK010"),
        conflicts=("VERSION_CONFLICT",),
    ),
    RouteSpec(
        "POST",
        "/v1/bookings/{id:uuid}/reschedule",
        reschedule_booking,
        "Move a booking in one transaction; If-Match guards against a stale read",
        "bookings",
        {200: Answer("Moved", BookingResult, headers=("ETag",))},
        sql="api.reschedule_booking",
        body=RescheduleRequest,
        body_example={"start_time": "2026-12-07T14:00:00+01:00"},
        path_params=BookingPath,
        headers=IfMatch,
        errors=sqlstates("BK003-BK006", "BK008", "BK010", "BK012", "BK013", "BK027"),
        conflicts=("HOLD_CONFLICT", "BOOKING_CONFLICT", "VERSION_CONFLICT"),
    ),
]
