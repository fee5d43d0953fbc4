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


def _answer(result: dict[str, Any]) -> Response:
    if result.get("success") is False and result.get("conflict_type"):
        return conflict_response(result)
    return json_response(result)


async def list_conflicts(request: Request) -> Response:
    g = gateway(request)
    return json_response({"items": await g.engine.active_conflicts(caller(request))})


async def conflict_metrics(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    seconds = query_fields(request).req_integer("window_seconds")
    result = await g.engine.conflict_metrics(who, timedelta(seconds=seconds))
    return json_response(result)


async def conflict_recommendations(request: Request) -> Response:
    g = gateway(request)
    return json_response({"items": await g.engine.conflict_recommendations(caller(request))})


async def resolve_conflict(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    f = await read_json(request, g.settings.max_body_bytes)
    result = await g.engine.resolve_conflict(
        who, request.path_params["id"], f.req_text("decision"), f.text("note")
    )
    return _answer(result)


async def confirm_conflict(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    f = await read_json(request, g.settings.max_body_bytes)
    result = await g.engine.confirm_conflict(
        who, request.path_params["id"], f.raw("accept") is True
    )
    return _answer(result)
