"""Cache administration (admin): invalidate by tags, warm the next days of popular services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from gateway.http import caller, json_response
from gateway.problems import Problem, validation
from gateway.routes_availability import day_slots
from gateway.state import Gateway, gateway
from gateway.validate import read_json

TAG_KINDS = ("service", "resource", "day")


def _check_tag(tag: str) -> str:
    kind, _, value = tag.partition(":")
    if kind not in TAG_KINDS or not value:
        raise validation(
            f"tag {tag!r} must be service:<id>, resource:<id> or day:<YYYY-MM-DD>",
            [{"field": "tags", "in": "body", "message": "unknown tag"}],
        )
    return tag


async def invalidate(request: Request) -> Response:
    g = gateway(request)
    caller(request, "admin")
    f = await read_json(request, g.settings.max_body_bytes)
    tags = [_check_tag(t) for t in f.string_list("tags")]
    if not tags:
        raise validation(
            "tags must name at least one tag",
            [{"field": "tags", "in": "body", "message": "is required"}],
        )
    mode = f.text("mode") or "immediate"
    if mode not in ("immediate", "lazy"):
        raise validation(
            "mode must be 'immediate' or 'lazy'",
            [{"field": "mode", "in": "body", "message": "immediate or lazy"}],
        )
    count = await g.cache.invalidate(tags, "lazy" if mode == "lazy" else "immediate")
    return json_response({"tags": tags, "mode": mode, "entries": count})


async def warm(g: Gateway, service_ids: list[UUID], days: int) -> list[dict[str, Any]]:
    """Fill the cache for each service over the next `days` days (UTC today first)."""
    today = datetime.now(UTC).date()
    report: list[dict[str, Any]] = []
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
    f = await read_json(request, g.settings.max_body_bytes, optional=True)
    days = f.integer("days", default=7, minimum=1, maximum=62)
    top = f.integer("top", default=10, minimum=1, maximum=100)
    assert days is not None and top is not None
    named = f.string_list("service_ids")
    try:
        ids = [UUID(s) for s in named]
    except ValueError as exc:
        raise validation(
            "service_ids must be UUIDs",
            [{"field": "service_ids", "in": "body", "message": "UUIDs"}],
        ) from exc
    if not ids:
        ids = [sid for sid, _ in g.cache.popularity.most_common(top)]
    return json_response({"days": days, "services": await warm(g, ids, days)})
