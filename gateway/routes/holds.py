"""Holds: POST /v1/holds, DELETE /v1/holds/{id}, POST /v1/holds/{id}/booking."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.responses import caller, conflict_response, json_response
from gateway.http.validate import header, read_json
from gateway.state import gateway

SESSION_HEADER = "X-Session-Id"


async def create_hold(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    f = await read_json(request, g.settings.max_body_bytes)
    session_id = f.text("session_id") or uuid.uuid4().hex
    result = await g.engine.create_hold(
        who,
        slot_id=f.text("slot_id"),
        user_id=f.text("user_id") or who.sub,
        service_id=f.req_uuid("service_id"),
        start=f.req_timestamp("start_time"),
        end=f.timestamp("end_time"),
        expires_at=f.timestamp("expires_at"),
        session_id=session_id,
        resource_id=f.uuid("resource_id"),
        seen_version=f.integer("seen_version"),
    )
    g.metrics.outcome(g.metrics.holds, result)
    if not result.get("success"):
        return conflict_response(result)
    return json_response(
        {**result, "session_id": session_id}, 201, {"Location": f"/v1/bookings/{result['hold_id']}"}
    )


async def release_hold(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    session_id = header(request, SESSION_HEADER)
    result = await g.engine.release_hold(who, request.path_params["id"], session_id)
    return json_response(result)


async def convert_hold(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    f = await read_json(request, g.settings.max_body_bytes)
    result = await g.engine.convert_hold(
        who, request.path_params["id"], f.req_text("session_id"), f.obj("booking_data")
    )
    g.metrics.outcome(g.metrics.bookings, result)
    if not result.get("success"):
        return conflict_response(result)
    return json_response(
        result,
        201,
        {"ETag": f'"{result["version"]}"', "Location": f"/v1/bookings/{result['booking_id']}"},
    )
