"""The conflict desk: list open conflicts, metrics, recommendations (staff, admin); resolve
(admin); confirm an offered alternative (the requester). The database checks every role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.responses import caller, conflict_response, json_response
from gateway.http.validate import query_fields, read_json
from gateway.state import gateway

ACTIVE = (
    "select coalesce(jsonb_agg(to_jsonb(c) order by c.detected_at), '[]'::jsonb)"
    " from api.active_conflicts() c"
)
RECOMMENDATIONS = (
    "select coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb) from api.conflict_recommendations() r"
)
METRICS = "select api.conflict_metrics(p_window => %(window)s::interval)"
RESOLVE = (
    "select api.resolve_conflict(p_conflict_id => %(id)s::uuid,"
    " p_decision => %(decision)s::text, p_note => %(note)s::text)"
)
CONFIRM = "select api.confirm_conflict(p_conflict_id => %(id)s::uuid, p_accept => %(accept)s::bool)"


def _answer(result: dict[str, Any]) -> Response:
    if result.get("success") is False and result.get("conflict_type"):
        return conflict_response(result)
    return json_response(result)


async def list_conflicts(request: Request) -> Response:
    g = gateway(request)
    items = await g.db.fetch_value(caller(request), ACTIVE, {})
    return json_response({"items": items})


async def conflict_metrics(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    seconds = query_fields(request).req_integer("window_seconds")
    result = await g.db.fetch_value(who, METRICS, {"window": timedelta(seconds=seconds)})
    return json_response(result)


async def conflict_recommendations(request: Request) -> Response:
    g = gateway(request)
    items = await g.db.fetch_value(caller(request), RECOMMENDATIONS, {})
    return json_response({"items": items})


async def resolve_conflict(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    f = await read_json(request, g.settings.max_body_bytes)
    result = await g.db.fetch_value(
        who,
        RESOLVE,
        {
            "id": request.path_params["id"],
            "decision": f.req_text("decision"),
            "note": f.text("note"),
        },
    )
    return _answer(result)


async def confirm_conflict(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    f = await read_json(request, g.settings.max_body_bytes)
    result = await g.db.fetch_value(
        who, CONFIRM, {"id": request.path_params["id"], "accept": f.raw("accept") is True}
    )
    return _answer(result)
