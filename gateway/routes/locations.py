"""Locations: the public list; opening, changing and closing one (admin, If-Match); its catalogue
audit trail (admin). The database checks the role and the token's locations."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.catalogue_fields import (
    CancelFuture,
    CatalogueIfMatch,
    HoldCap,
    TimeZone,
)
from gateway.http.fields import Instant, Text
from gateway.http.responses import (
    caller,
    entry_headers,
    expected_version,
    json_response,
    optional_caller,
)
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import body_of, given, parse_instant, path_of, query_of
from gateway.services.catalogue_results import CatalogueAudit, Location, LocationList
from gateway.sharding.reads import locations
from gateway.state import gateway

ROLE_REFUSED = "42501"  # a customer or staff token: no EXECUTE on the admin functions
EXAMPLE_LOCATION = "10000000-0000-4000-8000-000000000001"
LOCATION_EXAMPLE = {
    "id": EXAMPLE_LOCATION,
    "name": "Studio Mokotów",
    "time_zone": "Europe/Warsaw",
    "max_live_holds_per_customer": 3,
    "active": True,
    "version": 1,
    "created_at": "2026-12-01T09:00:00+00:00",
    "updated_at": "2026-12-01T09:00:00+00:00",
}


class LocationPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="location id")]


class NewLocation(Struct, kw_only=True, frozen=True):
    name: Text
    time_zone: TimeZone
    max_live_holds_per_customer: HoldCap = 3
    id: Annotated[UUID, Meta(description="default: a new id")] | UnsetType = UNSET


class LocationChange(Struct, kw_only=True, frozen=True):
    """What to change; a member left out keeps its value. `active: false` closes the location
    with all its services and resources."""

    name: Text | UnsetType = UNSET
    time_zone: TimeZone | UnsetType = UNSET
    max_live_holds_per_customer: HoldCap | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    cancel_future: CancelFuture = False


class AuditQuery(Struct, kw_only=True, frozen=True):
    entity_id: (
        Annotated[UUID, Meta(description="one entry: a resource, service or exception")] | UnsetType
    ) = UNSET
    since: Instant | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


async def list_locations(request: Request) -> Response:
    g = gateway(request)
    answer: LocationList = {"items": await locations(g.router, optional_caller(request))}
    return json_response(answer)


async def create_location(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, NewLocation, g.settings.max_body_bytes)
    row = await g.router.placing(given(b.id)).create_location(
        who,
        name=b.name,
        time_zone=b.time_zone,
        max_live_holds_per_customer=b.max_live_holds_per_customer,
        location_id=given(b.id),
    )
    return json_response(row, 201, entry_headers(row["version"], f"/v1/locations/{row['id']}"))


async def update_location(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    b = await body_of(request, LocationChange, g.settings.max_body_bytes)
    row = await (await g.router.location(request.path_params["id"])).update_location(
        who,
        request.path_params["id"],
        version,
        name=given(b.name),
        time_zone=given(b.time_zone),
        max_live_holds_per_customer=given(b.max_live_holds_per_customer),
        active=given(b.active),
        cancel_future=b.cancel_future,
    )
    return json_response(row, headers=entry_headers(row["version"]))


async def location_audit(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    location_id = path_of(request, LocationPath).id
    q = query_of(request, AuditQuery)
    since = given(q.since)
    items = await (await g.router.location(location_id)).catalogue_audit(
        who,
        location_id,
        entity_id=given(q.entity_id),
        since=None if since is None else parse_instant(since),
        limit=q.limit,
    )
    answer: CatalogueAudit = {"location_id": str(location_id), "items": items}
    return json_response(answer)


SPECS = [
    RouteSpec(
        "GET",
        "/v1/locations",
        list_locations,
        "The open locations: id, name, time zone (public)",
        "catalogue",
        {
            200: Answer(
                "By name",
                LocationList,
                example={
                    "items": [
                        {"id": EXAMPLE_LOCATION, "name": "Studio", "time_zone": "Europe/Warsaw"}
                    ]
                },
            )
        },
        sql="api.list_locations",
        public=True,
    ),
    RouteSpec(
        "POST",
        "/v1/locations",
        create_location,
        "Open a location (admin of every location)",
        "catalogue",
        {201: Answer("Opened; ETag is its version", Location, example=LOCATION_EXAMPLE)},
        sql="api.create_location",
        body=NewLocation,
        body_example={"name": "Studio Mokotów", "time_zone": "Europe/Warsaw"},
        errors=(ROLE_REFUSED, "BK017", "BK018"),
    ),
    RouteSpec(
        "PATCH",
        "/v1/locations/{id:uuid}",
        update_location,
        "Change, close or reopen a location (admin); If-Match guards against a stale read",
        "catalogue",
        {200: Answer("Changed (or unchanged); ETag is its version", Location)},
        sql="api.update_location",
        body=LocationChange,
        body_example={"active": False, "cancel_future": True},
        path_params=LocationPath,
        headers=CatalogueIfMatch,
        errors=(ROLE_REFUSED, "BK017", "BK018", "BK019", "BK020", "BK021"),
    ),
    RouteSpec(
        "GET",
        "/v1/locations/{id}/audit",  # no converter: a malformed id is 422, an unknown one 200 []
        location_audit,
        "Who changed what in a location's catalogue, newest first (admin)",
        "catalogue",
        {200: Answer("Newest first", CatalogueAudit)},
        sql="api.catalogue_audit",
        path_params=LocationPath,
        query=AuditQuery,
        errors=(ROLE_REFUSED, "BK017"),
    ),
]
