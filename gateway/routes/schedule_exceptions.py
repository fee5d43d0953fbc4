"""Schedule exceptions: time off and extra hours of a resource, closures of a location or of one
resource. Admins add and remove any kind; staff time off only, each at their own locations (the
database decides)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import EXAMPLE_RESOURCE, Instant, Text1000
from gateway.http.responses import caller, json_response
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import body_of, given, parse_instant
from gateway.services.catalogue_results import ScheduleException
from gateway.state import gateway

ROLE_REFUSED = "42501"  # a customer token: no EXECUTE on the schedule functions


class LocationPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="location id")]


class ExceptionPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="schedule exception id")]


class NewScheduleException(Struct, kw_only=True, frozen=True):
    """[start_time, end_time): time_off or extra_hours of one resource (resource_id required),
    a closure of the location (no resource_id) or of one resource."""

    kind: Literal["time_off", "closure", "extra_hours"]
    start_time: Instant
    end_time: Annotated[Instant, Meta(description="after start_time")]
    resource_id: UUID | UnsetType = UNSET
    note: Text1000 | UnsetType = UNSET


async def add_exception(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, NewScheduleException, g.settings.max_body_bytes)
    row = await (await g.router.location(request.path_params["id"])).add_schedule_exception(
        who,
        request.path_params["id"],
        kind=b.kind,
        start=parse_instant(b.start_time),
        end=parse_instant(b.end_time),
        resource_id=given(b.resource_id),
        note=given(b.note),
    )
    return json_response(row, 201, {"Location": f"/v1/exceptions/{row['id']}"})


async def remove_exception(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    row = await (await g.router.entity(request.path_params["id"])).remove_schedule_exception(
        who, request.path_params["id"]
    )
    return json_response(row)


SPECS = [
    RouteSpec(
        "POST",
        "/v1/locations/{id:uuid}/exceptions",
        add_exception,
        "Add time off, extra hours or a closure (admin; staff: time off)",
        "catalogue",
        {
            201: Answer(
                "Added; bookings inside it stay booked (overlapping_bookings)", ScheduleException
            )
        },
        sql="api.add_schedule_exception",
        body=NewScheduleException,
        body_example={
            "kind": "time_off",
            "resource_id": EXAMPLE_RESOURCE,
            "start_time": "2026-12-24T08:00:00+01:00",
            "end_time": "2026-12-27T08:00:00+01:00",
            "note": "holidays",
        },
        path_params=LocationPath,
        errors=(ROLE_REFUSED, "BK017", "BK018", "BK019"),
    ),
    RouteSpec(
        "DELETE",
        "/v1/exceptions/{id:uuid}",
        remove_exception,
        "Remove a schedule exception (admin; staff: time off)",
        "catalogue",
        {200: Answer("Removed; the exception as it was", ScheduleException)},
        sql="api.remove_schedule_exception",
        path_params=ExceptionPath,
        errors=(ROLE_REFUSED, "BK017", "BK019"),
    ),
]
