"""Resources (staff, rooms, equipment): adding one to a location, changing or deactivating it, and
its weekly working hours (admin, If-Match). The database checks the role and the token's
locations."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.catalogue_fields import CancelFuture, Capacity, CatalogueIfMatch
from gateway.http.fields import EXAMPLE_RESOURCE, Text
from gateway.http.responses import caller, entry_headers, expected_version, json_response
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import body_of, given
from gateway.services.catalogue_results import Resource, WorkingHours
from gateway.state import gateway

ROLE_REFUSED = "42501"  # a customer or staff token: no EXECUTE on the admin functions
Kind = Literal["staff", "room", "equipment"]
# a local time of day, whole minutes; 24:00 ends a day
ClockTime = Annotated[
    str,
    Meta(pattern="^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", description="local HH:MM"),
]


class LocationPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="location id")]


class ResourcePath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="resource id")]


class NewResource(Struct, kw_only=True, frozen=True):
    """A staff member, room or piece of equipment. It works no hours until they are set, and
    performs nothing until a service lists it."""

    name: Annotated[Text, Meta(description="the name customers see")]
    kind: Kind = "staff"
    capacity: Capacity = 1
    id: Annotated[UUID, Meta(description="default: a new id")] | UnsetType = UNSET


class ResourceChange(Struct, kw_only=True, frozen=True):
    """What to change; a member left out keeps its value. `active: false`: offered for nothing
    (its hours and services are kept)."""

    name: Text | UnsetType = UNSET
    kind: Kind | UnsetType = UNSET
    capacity: Capacity | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    cancel_future: CancelFuture = False


class HoursRange(Struct, kw_only=True, frozen=True):
    weekday: Annotated[int, Meta(ge=1, le=7, description="1 = Monday ... 7 = Sunday")]
    start: ClockTime
    end: Annotated[ClockTime, Meta(description="local HH:MM, after start; 24:00 is midnight")]


class WeeklyHoursRequest(Struct, kw_only=True, frozen=True):
    hours: Annotated[
        list[HoursRange],
        Meta(
            max_length=100,
            description="the whole week ([] for none); ranges of a day may meet but not overlap",
        ),
    ]


async def create_resource(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, NewResource, g.settings.max_body_bytes)
    row = await (await g.router.location(request.path_params["id"])).create_resource(
        who,
        request.path_params["id"],
        name=b.name,
        kind=b.kind,
        capacity=b.capacity,
        resource_id=given(b.id),
    )
    g.router.remember(UUID(row["id"]), request.path_params["id"])
    return json_response(row, 201, entry_headers(row["version"], f"/v1/resources/{row['id']}"))


async def update_resource(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    b = await body_of(request, ResourceChange, g.settings.max_body_bytes)
    row = await (await g.router.entity(request.path_params["id"])).update_resource(
        who,
        request.path_params["id"],
        version,
        name=given(b.name),
        kind=given(b.kind),
        capacity=given(b.capacity),
        active=given(b.active),
        cancel_future=b.cancel_future,
    )
    return json_response(row, headers=entry_headers(row["version"]))


async def set_working_hours(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    b = await body_of(request, WeeklyHoursRequest, g.settings.max_body_bytes)
    hours = [{"weekday": h.weekday, "start": h.start, "end": h.end} for h in b.hours]
    engine = await g.router.entity(request.path_params["id"])
    result = await engine.set_working_hours(who, request.path_params["id"], hours, version)
    return json_response(result, headers=entry_headers(result["version"]))


SPECS = [
    RouteSpec(
        "POST",
        "/v1/locations/{id:uuid}/resources",
        create_resource,
        "Add a staff member, room or piece of equipment to a location (admin)",
        "catalogue",
        {201: Answer("Added; ETag is its version", Resource)},
        sql="api.create_resource",
        body=NewResource,
        body_example={"name": "Anna", "kind": "staff"},
        path_params=LocationPath,
        errors=(ROLE_REFUSED, "BK017", "BK018", "BK019"),
    ),
    RouteSpec(
        "PATCH",
        "/v1/resources/{id:uuid}",
        update_resource,
        "Rename, re-kind, resize or (de)activate a resource (admin); If-Match guards against a"
        " stale read",
        "catalogue",
        {200: Answer("Changed (or unchanged); ETag is its version", Resource)},
        sql="api.update_resource",
        body=ResourceChange,
        body_example={"active": False},
        path_params=ResourcePath,
        headers=CatalogueIfMatch,
        errors=(ROLE_REFUSED, "BK017", "BK018", "BK019", "BK020", "BK021"),
    ),
    RouteSpec(
        "PUT",
        "/v1/resources/{id:uuid}/hours",
        set_working_hours,
        "Replace a resource's weekly working hours (admin); If-Match: the resource's version",
        "catalogue",
        {
            200: Answer(
                "Set; ETag is the resource's version",
                WorkingHours,
                example={
                    "resource_id": EXAMPLE_RESOURCE,
                    "location_id": "10000000-0000-4000-8000-000000000001",
                    "version": 2,
                    "hours": [{"weekday": 1, "start": "09:00", "end": "17:00"}],
                },
            )
        },
        sql="api.set_working_hours",
        body=WeeklyHoursRequest,
        body_example={
            "hours": [
                {"weekday": 1, "start": "09:00", "end": "13:00"},
                {"weekday": 1, "start": "14:00", "end": "18:00"},
            ]
        },
        path_params=ResourcePath,
        headers=CatalogueIfMatch,
        errors=(ROLE_REFUSED, "BK017", "BK018", "BK019", "BK021"),
    ),
]
