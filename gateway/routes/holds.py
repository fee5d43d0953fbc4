"""Holds: POST /v1/holds, DELETE /v1/holds/{id}, POST /v1/holds/{id}/booking."""

from __future__ import annotations

import uuid
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import (
    EXAMPLE_HOLD,
    EXAMPLE_RESOURCE,
    EXAMPLE_SERVICE,
    BookingData,
    Instant,
    Seats,
    SeenVersion,
    Text,
    WallOrInstant,
)
from gateway.http.responses import caller, conflict_response, entry_headers, json_response
from gateway.http.spec import Answer, RouteSpec, sqlstates
from gateway.http.validate import body_of, given, header, parse_time
from gateway.services.results import BookingResult, HoldRelease, HoldResult
from gateway.state import gateway

SESSION_HEADER = "X-Session-Id"


class HoldRequest(Struct, kw_only=True, frozen=True):
    service_id: UUID
    start_time: WallOrInstant
    end_time: WallOrInstant | UnsetType = UNSET
    resource_id: UUID | UnsetType = UNSET
    session_id: (
        Annotated[Text, Meta(description="generated when not sent; needed to convert or release")]
        | UnsetType
    ) = UNSET
    expires_at: Instant | UnsetType = UNSET
    slot_id: Text | UnsetType = UNSET
    user_id: (
        Annotated[Text, Meta(description="staff/admin only: act for this customer")] | UnsetType
    ) = UNSET
    seen_version: SeenVersion | UnsetType = UNSET
    seats: Seats = 1


class Hold(HoldResult):
    """A new hold and the session it belongs to (needed to convert or release it)."""

    session_id: str


class ConvertRequest(Struct, kw_only=True, frozen=True):
    session_id: Annotated[Text, Meta(description="the session_id the hold was created with")]
    booking_data: BookingData | UnsetType = UNSET


class HoldPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="hold or booking id")]


class SessionHeader(Struct, frozen=True):
    session: Annotated[Text, Meta(description="the session_id the hold was created with")] = field(
        name=SESSION_HEADER
    )


async def create_hold(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, HoldRequest, g.settings.max_body_bytes)
    session_id = b.session_id or uuid.uuid4().hex
    end, expires_at = given(b.end_time), given(b.expires_at)
    engine = await g.router.entity(b.service_id)
    result = await engine.create_hold(
        who,
        slot_id=given(b.slot_id),
        user_id=b.user_id or who.sub,
        service_id=b.service_id,
        start=parse_time(b.start_time),
        end=None if end is None else parse_time(end),
        expires_at=None if expires_at is None else parse_time(expires_at),
        session_id=session_id,
        resource_id=given(b.resource_id),
        seen_version=given(b.seen_version),
        seats=b.seats,
    )
    g.metrics.outcome(g.metrics.holds, result)
    if not result["success"]:
        return conflict_response(result)
    if (location := g.router.known(b.service_id)) is not None:
        g.router.remember(UUID(result["hold_id"]), location)  # its release or booking: no lookup
    hold: Hold = {**result, "session_id": session_id}
    return json_response(hold, 201, {"Location": f"/v1/bookings/{result['hold_id']}"})


async def release_hold(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    session_id = header(request, SESSION_HEADER)
    hold_id: UUID = request.path_params["id"]
    result = await (await g.router.entity(hold_id)).release_hold(who, hold_id, session_id)
    return json_response(result)


async def convert_hold(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, ConvertRequest, g.settings.max_body_bytes)
    hold_id: UUID = request.path_params["id"]
    engine = await g.router.entity(hold_id)
    result = await engine.convert_hold(who, hold_id, b.session_id, given(b.booking_data))
    g.metrics.outcome(g.metrics.bookings, result)
    if not result["success"]:
        return conflict_response(result)
    return json_response(
        result, 201, entry_headers(result["version"], f"/v1/bookings/{result['booking_id']}")
    )


SPECS = [
    RouteSpec(
        "POST",
        "/v1/holds",
        create_hold,
        "Hold a slot for a few minutes",
        "holds",
        {
            201: Answer(
                "Held",
                Hold,
                example={
                    "success": True,
                    "hold_id": EXAMPLE_HOLD,
                    "session_id": "3f9d...",
                    "resource_id": EXAMPLE_RESOURCE,
                    "start_time": "2026-12-07T09:00:00+00:00",
                    "end_time": "2026-12-07T10:00:00+00:00",
                    "time_zone": "Europe/Warsaw",
                    "start_local": "2026-12-07T10:00:00",
                    "end_local": "2026-12-07T11:00:00",
                    "expires_at": "2026-12-01T12:10:00+00:00",
                    "version": 1,
                    "seats": 1,
                },
            )
        },
        sql="api.create_hold_atomic",
        body=HoldRequest,
        body_example={
            "service_id": EXAMPLE_SERVICE,
            "start_time": "2026-12-07T10:00:00+01:00",
            "end_time": "2026-12-07T11:00:00+01:00",
        },
        errors=sqlstates("BK001-BK007", "BK012-BK016", "BK026", "BK027"),
        conflicts=("HOLD_CONFLICT", "BOOKING_CONFLICT", "CACHE_CONFLICT"),
    ),
    RouteSpec(
        "DELETE",
        "/v1/holds/{id:uuid}",
        release_hold,
        "Release a hold",
        "holds",
        {200: Answer("Released (or already ended)", HoldRelease)},
        sql="api.release_hold",
        path_params=HoldPath,
        headers=SessionHeader,
        errors=("BK008", "BK009", "BK010"),
    ),
    RouteSpec(
        "POST",
        "/v1/holds/{id:uuid}/booking",
        convert_hold,
        "Turn a hold into a booking (same id)",
        "holds",
        {201: Answer("Booked", BookingResult, headers=("ETag",))},
        sql="api.convert_hold_to_booking",
        body=ConvertRequest,
        body_example={"session_id": "3f9d...", "booking_data": {"note": "first visit"}},
        path_params=HoldPath,
        errors=("BK008", "BK009", "BK010", "BK014"),
        conflicts=("HOLD_CONFLICT", "BOOKING_CONFLICT"),
    ),
]
