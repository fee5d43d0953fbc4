"""Cache administration (admin): invalidate by tags, warm the next days of popular services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, TypedDict
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import EXAMPLE_SERVICE, MAX_DAYS
from gateway.http.problems import Problem
from gateway.http.responses import caller, json_response
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import body_of, given
from gateway.services.availability import day_slots
from gateway.services.results import UuidText
from gateway.state import Gateway, gateway

Tag = Annotated[str, Meta(max_length=200, pattern="^(service|resource|day):[^\\u0000]+$")]
Mode = Literal["immediate", "lazy"]
TAGS = "service:<id>, resource:<id> or day:<YYYY-MM-DD>"


class InvalidateRequest(Struct, kw_only=True, frozen=True):
    tags: Annotated[
        list[Tag],
        Meta(min_length=1, max_length=100, description=TAGS),
    ]
    mode: Mode = "immediate"


class Invalidated(TypedDict):
    tags: list[str]
    mode: Mode
    entries: int


class WarmRequest(Struct, kw_only=True, frozen=True):
    days: Annotated[int, Meta(ge=1, le=MAX_DAYS)] = 7
    top: Annotated[int, Meta(ge=1, le=100)] = 10
    service_ids: (
        Annotated[
            list[UUID],
            Meta(
                max_length=100,
                description="default: the services whose availability was asked for most",
            ),
        ]
        | UnsetType
    ) = UNSET


class WarmedService(TypedDict):
    """`status`: warmed, or the problem slug that stopped it (unknown-service, unavailable...)."""

    service_id: UuidText
    days: int
    status: str


class Warmed(TypedDict):
    days: int
    services: list[WarmedService]


async def invalidate(request: Request) -> Response:
    g = gateway(request)
    caller(request, "admin")
    b = await body_of(request, InvalidateRequest, g.settings.max_body_bytes)
    count = await g.cache.invalidate(b.tags, b.mode)
    answer: Invalidated = {"tags": b.tags, "mode": b.mode, "entries": count}
    return json_response(answer)


async def warm(g: Gateway, service_ids: list[UUID], days: int) -> list[WarmedService]:
    """Fill the cache for each service over the next `days` days (UTC today first)."""
    today = datetime.now(UTC).date()
    report: list[WarmedService] = []
    for sid in service_ids:
        try:
            versions, _ = await day_slots(g, sid, today, days, None)
            report.append({"service_id": str(sid), "days": len(versions), "status": "warmed"})
        except Problem as problem:
            report.append({"service_id": str(sid), "days": 0, "status": problem.slug})
    return report


async def warm_cache(request: Request) -> Response:
    g = gateway(request)
    caller(request, "admin")
    b = await body_of(request, WarmRequest, g.settings.max_body_bytes)
    ids = given(b.service_ids) or [sid for sid, _ in g.cache.popularity.most_common(b.top)]
    answer: Warmed = {"days": b.days, "services": await warm(g, ids, b.days)}
    return json_response(answer)


GATEWAY_ROLE_CHECK = {403: "`forbidden`: for admins only"}

SPECS = [
    RouteSpec(
        "POST",
        "/v1/cache/invalidate",
        invalidate,
        "Invalidate cached availability by tag (admin)",
        "cache",
        {200: Answer("Done", Invalidated)},
        body=InvalidateRequest,
        body_example={
            "tags": [f"service:{EXAMPLE_SERVICE}", "day:2026-12-07"],
            "mode": "immediate",
        },
        problems=GATEWAY_ROLE_CHECK,
        database=False,
    ),
    RouteSpec(
        "POST",
        "/v1/cache/warm",
        warm_cache,
        "Warm the next N days of popular (or named) services (admin)",
        "cache",
        {200: Answer("Done: one report per service", Warmed)},
        body=WarmRequest,
        body_required=False,
        body_example={"days": 7},
        problems=GATEWAY_ROLE_CHECK,
        database=False,  # a database error stops one service's warm-up and is in its report
    ),
]
