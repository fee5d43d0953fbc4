"""Staff views of a location: GET /v1/locations/{id}/schedule (a local day per resource, with the
customers' contact details and the free gaps) and GET /v1/locations/{id}/bookings (a search, a
page at a time). Staff and admins only, at the locations their token names: the database checks
both (a customer's role cannot execute the functions: 403)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType, field
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import EXAMPLE_RESOURCE, Day, Instant
from gateway.http.problems import Problem
from gateway.http.responses import caller, json_response
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import given, parse_day, parse_instant, query_of
from gateway.services.staff_results import BookingSearch, LocationSchedule
from gateway.state import gateway

EXAMPLE_LOCATION = "10000000-0000-4000-8000-000000000001"
STATUSES = ("held", "confirmed", "cancelled", "expired", "released", "preempted")
_STATUS = "(" + "|".join(STATUSES) + ")"
# text with something besides spaces (the database trims spaces) and no NUL
SEARCH_TEXT = "^[^\\u0000]*[^ \\u0000][^\\u0000]*$"
INCONSISTENT = "inconsistent-query"


class LocationPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="location id")]


class ScheduleQuery(Struct, kw_only=True, frozen=True):
    date: Annotated[Day, Meta(description="the local day at the location")]
    resource_id: (
        Annotated[UUID, Meta(description="only this resource (of this location)")] | UnsetType
    ) = UNSET


class SearchQuery(Struct, kw_only=True, frozen=True):
    customer: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=200,
                pattern=SEARCH_TEXT,
                description="the customer's subject exactly, or part of the name or e-mail "
                "(any case), or digits found in the phone",
            ),
        ]
        | UnsetType
    ) = UNSET
    first_day: Annotated[Day, Meta(description="first local day (by start)")] | UnsetType = field(
        default=UNSET, name="from"
    )
    last_day: (
        Annotated[Day, Meta(description="last local day (by start), inclusive")] | UnsetType
    ) = field(default=UNSET, name="to")
    status: (
        Annotated[
            str,
            Meta(
                pattern=f"^{_STATUS}(,{_STATUS})*$",
                description="effective statuses, comma-separated: " + ", ".join(STATUSES),
            ),
        ]
        | UnsetType
    ) = UNSET
    limit: Annotated[int, Meta(ge=1, le=1000, description="bookings per page")] = 50
    after_start: (
        Annotated[
            Instant,
            Meta(
                description="the next page: next.after_start of the previous one (its + "
                "percent-encoded as %2B, as the Link header has it)"
            ),
        ]
        | UnsetType
    ) = UNSET
    after_id: (
        Annotated[UUID, Meta(description="the next page: next.after_id of the previous one")]
        | UnsetType
    ) = UNSET


async def location_schedule(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    location: UUID = request.path_params["id"]
    q = query_of(request, ScheduleQuery)
    result = await (await g.router.location(location)).location_schedule(
        who, location, parse_day(q.date), given(q.resource_id)
    )
    return json_response(result)


def _inconsistent(detail: str, name: str, message: str) -> Problem:
    """Parameters each well-formed (as the document says) that do not fit together."""
    return Problem(
        422,
        INCONSISTENT,
        "Query parameters do not fit together",
        detail,
        extra={"errors": [{"field": name, "in": "query", "message": message}]},
    )


def _day_range(q: SearchQuery) -> tuple[date | None, date | None]:
    """`from` and `to`; one schema per parameter cannot say that `to` is not before `from`."""
    first_day, last_day = given(q.first_day), given(q.last_day)
    first = None if first_day is None else parse_day(first_day)
    last = None if last_day is None else parse_day(last_day)
    if first is not None and last is not None and last < first:
        raise _inconsistent(
            "the day 'to' is before the day 'from'", "to", "must not be before from"
        )
    return first, last


def _cursor(q: SearchQuery) -> tuple[datetime | None, UUID | None]:
    """`after_start` and `after_id`: a position in the search order, so both or neither."""
    after_start, after_id = given(q.after_start), given(q.after_id)
    if (after_start is None) != (after_id is None):
        raise _inconsistent(
            "after_start and after_id name a position together (next of the previous page)",
            "after_id" if after_id is None else "after_start",
            "is required with the other",
        )
    return None if after_start is None else parse_instant(after_start), after_id


async def search_bookings(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    location: UUID = request.path_params["id"]
    q = query_of(request, SearchQuery)
    first_day, last_day = _day_range(q)
    after_start, after_id = _cursor(q)
    status = given(q.status)
    result = await (await g.router.location(location)).search_bookings(
        who,
        location,
        customer=given(q.customer),
        first_day=first_day,
        last_day=last_day,
        statuses=None if status is None else status.split(","),
        limit=q.limit,
        after_start=after_start,
        after_id=after_id,
    )
    headers = {}
    cursor = result["next"]
    if cursor is not None:  # RFC 8288: the next page, the other parameters kept
        following = request.url.include_query_params(
            after_start=cursor["after_start"], after_id=cursor["after_id"]
        )
        headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return json_response(result, headers=headers)


ROLE_REFUSED = ("42501",)  # a customer's role has no EXECUTE on the staff views
_SPAN = {
    "start_time": "2026-12-07T09:00:00+00:00",
    "end_time": "2026-12-07T10:00:00+00:00",
    "time_zone": "Europe/Warsaw",
    "start_local": "2026-12-07T10:00:00",
    "end_local": "2026-12-07T11:00:00",
}
_RESERVATION = {
    "id": "7b0c2f1e-9a55-4e0a-b1f4-0d6a4b0f3c11",
    "status": "confirmed",
    "service_id": "30000000-0000-4000-8000-000000000001",
    "service_name": "Manicure",
    "resource_id": EXAMPLE_RESOURCE,
    "resource_name": "Anna",
    **_SPAN,
    "expires_at": None,
    "version": 2,
    "details": {"note": "first visit"},
    "cancel_reason": None,
    "created_at": "2026-12-01T12:00:00+00:00",
    "updated_at": "2026-12-01T12:01:00+00:00",
    "customer": {
        "subject": "alice",
        "name": "Alice Nowak",
        "email": "alice@example.com",
        "phone": "+48600100200",
    },
}

SPECS = [
    RouteSpec(
        "GET",
        "/v1/locations/{id:uuid}/schedule",
        location_schedule,
        "A location's local day per resource: bookings, live holds, free gaps (staff, admin)",
        "staff",
        {
            200: Answer(
                "The day",
                LocationSchedule,
                example={
                    "location_id": EXAMPLE_LOCATION,
                    "date": "2026-12-07",
                    "start_time": "2026-12-06T23:00:00+00:00",
                    "end_time": "2026-12-07T23:00:00+00:00",
                    "time_zone": "Europe/Warsaw",
                    "start_local": "2026-12-07T00:00:00",
                    "end_local": "2026-12-08T00:00:00",
                    "resources": [
                        {
                            "resource_id": EXAMPLE_RESOURCE,
                            "name": "Anna",
                            "kind": "staff",
                            "active": True,
                            "working_hours": [
                                {
                                    "start_time": "2026-12-07T08:00:00+00:00",
                                    "end_time": "2026-12-07T16:00:00+00:00",
                                    "time_zone": "Europe/Warsaw",
                                    "start_local": "2026-12-07T09:00:00",
                                    "end_local": "2026-12-07T17:00:00",
                                }
                            ],
                            "exceptions": [],
                            "reservations": [_RESERVATION],
                            "free": [
                                {
                                    "start_time": "2026-12-07T08:00:00+00:00",
                                    "end_time": "2026-12-07T09:00:00+00:00",
                                    "time_zone": "Europe/Warsaw",
                                    "start_local": "2026-12-07T09:00:00",
                                    "end_local": "2026-12-07T10:00:00",
                                },
                                {
                                    "start_time": "2026-12-07T10:00:00+00:00",
                                    "end_time": "2026-12-07T16:00:00+00:00",
                                    "time_zone": "Europe/Warsaw",
                                    "start_local": "2026-12-07T11:00:00",
                                    "end_local": "2026-12-07T17:00:00",
                                },
                            ],
                        }
                    ],
                },
            )
        },
        sql="api.location_schedule",
        path_params=LocationPath,
        query=ScheduleQuery,
        errors=(*ROLE_REFUSED, "BK017", "BK019"),
    ),
    RouteSpec(
        "GET",
        "/v1/locations/{id:uuid}/bookings",
        search_bookings,
        "Search a location's holds and bookings, a page at a time (staff, admin)",
        "staff",
        {
            200: Answer(
                "One page in start order; Link names the next page when there is one",
                BookingSearch,
                headers=("Link",),
                example={
                    "location_id": EXAMPLE_LOCATION,
                    "time_zone": "Europe/Warsaw",
                    "bookings": [_RESERVATION],
                    "next": {
                        "after_start": _SPAN["start_time"],
                        "after_id": _RESERVATION["id"],
                    },
                },
            )
        },
        sql="api.search_bookings",
        path_params=LocationPath,
        query=SearchQuery,
        problems={
            422: f"`{INCONSISTENT}`: after_start without after_id (or the reverse), or to before"
            " from"
        },
        errors=(*ROLE_REFUSED, "BK017", "BK019"),
    ),
]
