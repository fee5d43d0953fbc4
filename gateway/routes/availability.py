"""GET /v1/services/{id}/availability: free slots per local day, cached by availability version."""

from __future__ import annotations

import json
from typing import Annotated, TypedDict
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import (
    EXAMPLE_RESOURCE,
    EXAMPLE_SERVICE,
    MAX_DAYS,
    Day,
    IfNoneMatch,
)
from gateway.http.responses import etag_matches, optional_caller
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import given, parse_day, query_of
from gateway.services.answer_cache import Answer as EncodedBody
from gateway.services.availability import availability_etag, day_slots, day_versions
from gateway.services.results import DayText, LocalSpan, UuidText
from gateway.state import gateway


class AvailabilityQuery(Struct, kw_only=True, frozen=True):
    date: Annotated[Day, Meta(description="the first local day")]
    days: Annotated[int, Meta(ge=1, le=MAX_DAYS)] = 1
    resource_id: UUID | UnsetType = UNSET


class ServicePath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="service id")]


class Slot(LocalSpan):
    """A free start, its times also on the location's clock; `resource_ids` are the free
    resources in preference order (a resource of several seats, a class, while one of its seats
    is free), `seats_left` the seats free then over them (for an appointment: one per free
    resource)."""

    slot_id: str
    resource_ids: list[UuidText]
    seats_left: Annotated[int, Meta(ge=1)]


class Availability(TypedDict):
    """Free slots from `date` on, for `days` local days; `versions` maps each day to its
    availability version."""

    service_id: UuidText
    date: DayText
    days: int
    resource_id: UuidText | None
    versions: dict[str, int]
    slots: list[Slot]


class EncodedAnswer(Response):
    """An answer encoded once, sent as its bytes (its raw headers copied: a middleware may add
    to them)."""

    def __init__(self, answer: EncodedBody) -> None:
        self.status_code = 200
        self.background = None
        self.body = answer.body
        self.raw_headers = list(answer.headers)


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})


async def get_availability(request: Request) -> Response:
    g = gateway(request)
    optional_caller(request)
    service_id: UUID = request.path_params["id"]
    g.cache.popularity[service_id] += 1
    key = (service_id, request.scope["query_string"])
    answer = g.cache.answers.get(key)
    if answer is not None:  # the same query answered before: still current if no day moved on
        known = g.versions.lookup(service_id, answer.day, answer.days)
        if known is not None and tuple(v.version for v in known) == answer.versions:
            g.metrics.versions.labels("map").inc()
            g.metrics.cache.labels("hit_answer").inc(answer.days)
            if etag_matches(request.headers.get("if-none-match"), answer.etag):
                return not_modified(answer.etag)
            return EncodedAnswer(answer)
    generation = g.cache.answers.generation
    q = query_of(request, AvailabilityQuery)
    day = parse_day(q.date)
    days = q.days
    resource_id = given(q.resource_id)
    versions = await day_versions(g, service_id, day, days)
    if all(v.version > 0 for v in versions):  # a known version: If-None-Match needs no slots
        etag = availability_etag(versions)
        if etag_matches(request.headers.get("if-none-match"), etag):
            return not_modified(etag)
    versions, slots = await day_slots(g, service_id, day, days, resource_id, versions)
    etag = availability_etag(versions)
    cacheable = all(v.version > 0 for v in versions)
    if cacheable and etag_matches(request.headers.get("if-none-match"), etag):
        return not_modified(etag)
    inner = ",".join(s[1:-1] for s in slots if s not in ("[]", ""))
    body = (
        '{"service_id":'
        + json.dumps(str(service_id))
        + ',"date":"'
        + day.isoformat()
        + '","days":'
        + str(days)
        + ',"resource_id":'
        + (json.dumps(str(resource_id)) if resource_id else "null")
        + ',"versions":'
        + json.dumps({v.day.isoformat(): v.version for v in versions})
        + ',"slots":['
        + inner
        + "]}"
    ).encode()
    answer = g.cache.answers.build(
        day, days, tuple(v.version for v in versions), etag, body, generation
    )
    if cacheable:
        g.cache.answers.put(key, answer)
    return EncodedAnswer(answer)


SPECS = [
    RouteSpec(
        "GET",
        "/v1/services/{id:uuid}/availability",
        get_availability,
        "Free slots of a service per local day (public, cached, ETag)",
        "availability",
        {
            200: Answer(
                "Free slots",
                Availability,
                headers=("ETag",),
                example={
                    "service_id": EXAMPLE_SERVICE,
                    "date": "2026-12-07",
                    "days": 1,
                    "resource_id": None,
                    "versions": {"2026-12-07": 42},
                    "slots": [
                        {
                            "slot_id": f"{EXAMPLE_SERVICE}@2026-12-07T09:00:00Z",
                            "start_time": "2026-12-07T09:00:00+00:00",
                            "end_time": "2026-12-07T10:00:00+00:00",
                            "resource_ids": [EXAMPLE_RESOURCE],
                            "time_zone": "Europe/Warsaw",
                            "start_local": "2026-12-07T10:00:00",
                            "end_local": "2026-12-07T11:00:00",
                            "seats_left": 1,
                        }
                    ],
                },
            ),
            304: Answer("Not modified (If-None-Match matched)"),
        },
        sql="api.get_availability",
        path_params=ServicePath,
        query=AvailabilityQuery,
        headers=IfNoneMatch,
        errors=("BK001", "BK002"),
        public=True,
    )
]
