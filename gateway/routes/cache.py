"""Cache administration (admin): invalidate by tags, warm the next days of popular services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.problems import Problem
from gateway.http.responses import caller, json_response
from gateway.http.validate import read_json
from gateway.services.availability import day_slots
from gateway.state import Gateway, gateway


async def invalidate(request: Request) -> Response:
    g = gateway(request)
    caller(request, "admin")
    f = await read_json(request, g.settings.max_body_bytes)
    tags = f.string_list("tags")
    mode = f.req_text("mode")
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
    f = await read_json(request, g.settings.max_body_bytes)
    days = f.req_integer("days")
    ids = [UUID(s) for s in f.string_list("service_ids")]
    if not ids:
        ids = [sid for sid, _ in g.cache.popularity.most_common(f.req_integer("top"))]
    return json_response({"days": days, "services": await warm(g, ids, days)})
