"""Waiting lists: POST /v1/waitlist (join), GET /v1/waitlist (your entries), GET and DELETE
/v1/waitlist/{id} (read, leave), POST /v1/waitlist/{id}/decline, and GET
/v1/services/{id}/waitlist (staff, admin). An offer is a hold: it is converted with
POST /v1/holds/{hold_id}/booking and its session_id, like any other."""

from __future__ import annotations

from typing import Annotated, TypedDict
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import EXAMPLE_HOLD, EXAMPLE_SERVICE, Instant, Text, WallOrInstant
from gateway.http.responses import caller, entry_headers, json_response
from gateway.http.spec import Answer, RouteSpec, sqlstates
from gateway.http.validate import body_of, given, parse_instant, parse_time, query_of
from gateway.services.results import ServiceWaitlist, WaitlistEntry
from gateway.sharding.reads import customer_waitlist
from gateway.state import gateway

EXAMPLE_ENTRY = "5d0c7a4e-3f7b-4c2e-9a61-2b8f6f1d0e42"
ROLE_REFUSED = ("42501",)  # a caller role without EXECUTE on the function


class JoinRequest(Struct, kw_only=True, frozen=True):
    service_id: UUID
    start_time: WallOrInstant
    resource_id: (
        Annotated[UUID, Meta(description="only this resource; any eligible one when left out")]
        | UnsetType
    ) = UNSET
    seats: Annotated[
        int, Meta(ge=1, le=100, description="seats wanted at once (a class); the service's max")
    ] = 1
    user_id: (
        Annotated[Text, Meta(description="staff/admin only: act for this customer")] | UnsetType
    ) = UNSET


# a query parameter is text: "true" or "false"
IncludeEnded = Annotated[
    str, Meta(pattern="^(true|false)$", description="true: also accepted, declined, lapsed, left")
]


class EntryPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="waiting-list entry id")]


class ServicePath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="service id")]


class MyEntriesQuery(Struct, kw_only=True, frozen=True):
    user_id: Text | UnsetType = UNSET
    include_ended: IncludeEnded = "false"


class ServiceLineQuery(Struct, kw_only=True, frozen=True):
    start_time: Annotated[Instant, Meta(description="only the line of this start")] | UnsetType = (
        UNSET
    )
    include_ended: IncludeEnded = "false"


class EntryList(TypedDict):
    user_id: str
    items: list[WaitlistEntry]


def _headers(entry: WaitlistEntry, created: bool = False) -> dict[str, str]:
    return entry_headers(entry["version"], f"/v1/waitlist/{entry['entry_id']}" if created else None)


async def join_waitlist(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, JoinRequest, g.settings.max_body_bytes)
    entry = await (await g.router.entity(b.service_id)).join_waitlist(
        who,
        user_id=b.user_id or who.sub,
        service_id=b.service_id,
        start=parse_time(b.start_time),
        resource_id=given(b.resource_id),
        seats=b.seats,
    )
    created = bool(entry.get("created"))
    return json_response(entry, 201 if created else 200, _headers(entry, created))


async def my_entries(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    q = query_of(request, MyEntriesQuery)
    user_id = q.user_id or who.sub
    items = await customer_waitlist(g.router, who, user_id, q.include_ended == "true")
    answer: EntryList = {"user_id": user_id, "items": items}
    return json_response(answer)


async def get_entry(request: Request) -> Response:
    g = gateway(request)
    entry = await (await g.router.entity(request.path_params["id"])).get_waitlist_entry(
        caller(request), request.path_params["id"]
    )
    return json_response(entry, headers=_headers(entry))


async def leave(request: Request) -> Response:
    g = gateway(request)
    entry = await (await g.router.entity(request.path_params["id"])).leave_waitlist(
        caller(request), request.path_params["id"]
    )
    return json_response(entry, headers=_headers(entry))


async def decline(request: Request) -> Response:
    g = gateway(request)
    entry = await (await g.router.entity(request.path_params["id"])).decline_offer(
        caller(request), request.path_params["id"]
    )
    return json_response(entry, headers=_headers(entry))


async def service_line(request: Request) -> Response:
    g = gateway(request)
    q = query_of(request, ServiceLineQuery)
    start = given(q.start_time)
    answer = await (await g.router.entity(request.path_params["id"])).list_waitlist(
        caller(request),
        request.path_params["id"],
        None if start is None else parse_instant(start),
        q.include_ended == "true",
    )
    return json_response(answer)


ENTRY_EXAMPLE = {
    "success": True,
    "entry_id": EXAMPLE_ENTRY,
    "status": "waiting",
    "position": 2,
    "location_id": "10000000-0000-4000-8000-000000000001",
    "service_id": EXAMPLE_SERVICE,
    "resource_id": None,
    "seats": 1,
    "slot_id": f"{EXAMPLE_SERVICE}@2026-12-07T09:00:00Z",
    "customer": "alice",
    "joined_at": "2026-12-01T12:00:00+00:00",
    "offers": 0,
    "end_reason": None,
    "version": 1,
    "offer": None,
    "start_time": "2026-12-07T09:00:00+00:00",
    "end_time": "2026-12-07T10:00:00+00:00",
    "time_zone": "Europe/Warsaw",
    "start_local": "2026-12-07T10:00:00",
    "end_local": "2026-12-07T11:00:00",
    "created": True,
}
OFFERED_EXAMPLE = {
    **{k: v for k, v in ENTRY_EXAMPLE.items() if k != "created"},
    "status": "offered",
    "position": None,
    "offers": 1,
    "version": 2,
    "offer": {
        "hold_id": EXAMPLE_HOLD,
        "session_id": f"waitlist:{EXAMPLE_ENTRY}",
        "resource_id": "20000000-0000-4000-8000-000000000001",
        "expires_at": "2026-12-01T12:10:00+00:00",
    },
}

SPECS = [
    RouteSpec(
        "POST",
        "/v1/waitlist",
        join_waitlist,
        "Join the waiting list of a taken slot (an offer at once when it is free)",
        "waitlist",
        {
            201: Answer(
                "Joined: waiting (with its position), or offered at once",
                WaitlistEntry,
                headers=("ETag", "Location"),
                example=ENTRY_EXAMPLE,
            ),
            200: Answer("Already on this list: the live entry", WaitlistEntry, headers=("ETag",)),
        },
        sql="api.join_waitlist",
        body=JoinRequest,
        body_example={"service_id": EXAMPLE_SERVICE, "start_time": "2026-12-07T10:00:00+01:00"},
        errors=sqlstates("BK001-BK006", "BK012-BK015", "BK031", "BK032"),
    ),
    RouteSpec(
        "GET",
        "/v1/waitlist",
        my_entries,
        "Your waiting-list entries (staff/admin: ?user_id=)",
        "waitlist",
        {200: Answer("Soonest start first", EntryList)},
        sql="api.list_customer_waitlist",
        query=MyEntriesQuery,
        errors=("BK015",),
    ),
    RouteSpec(
        "GET",
        "/v1/waitlist/{id:uuid}",
        get_entry,
        "One entry: status, position, the open offer; ETag is its version",
        "waitlist",
        {200: Answer("Found", WaitlistEntry, headers=("ETag",), example=OFFERED_EXAMPLE)},
        sql="api.get_waitlist_entry",
        path_params=EntryPath,
        errors=("BK029",),
    ),
    RouteSpec(
        "DELETE",
        "/v1/waitlist/{id:uuid}",
        leave,
        "Leave the list (an open offer passes to the next in line)",
        "waitlist",
        {200: Answer("Left (or ended already)", WaitlistEntry, headers=("ETag",))},
        sql="api.leave_waitlist",
        path_params=EntryPath,
        errors=("BK029",),
    ),
    RouteSpec(
        "POST",
        "/v1/waitlist/{id:uuid}/decline",
        decline,
        "Decline the open offer: its hold is released and passes to the next in line",
        "waitlist",
        {200: Answer("Declined", WaitlistEntry, headers=("ETag",))},
        sql="api.decline_offer",
        path_params=EntryPath,
        errors=("BK029", "BK030"),
    ),
    RouteSpec(
        "GET",
        "/v1/services/{id:uuid}/waitlist",
        service_line,
        "A service's waiting lists, each in line order (staff, admin)",
        "waitlist",
        {200: Answer("By start, then in line order", ServiceWaitlist)},
        sql="api.list_waitlist",
        path_params=ServicePath,
        query=ServiceLineQuery,
        errors=(*ROLE_REFUSED, "BK001", "BK017"),
    ),
]
