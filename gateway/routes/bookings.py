"""Bookings: create (idempotent), get, list, cancel and reschedule (If-Match)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.responses import (
    caller,
    conflict_response,
    etag_matches,
    expected_version,
    json_response,
)
from gateway.http.validate import header, query_fields, read_json
from gateway.state import gateway

IDEMPOTENCY_HEADER = "Idempotency-Key"


async def create_booking(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    f = await read_json(request, g.settings.max_body_bytes)
    key = header(request, IDEMPOTENCY_HEADER)
    result = await g.engine.create_booking(
        who,
        service_id=f.req_uuid("service_id"),
        start=f.req_timestamp("start_time"),
        user_id=f.text("user_id") or who.sub,
        booking_data=f.obj("booking_data"),
        resource_id=f.uuid("resource_id"),
        idempotency_key=key,
        seen_version=f.integer("seen_version"),
    )
    g.metrics.outcome(g.metrics.bookings, result)
    if not result.get("success"):
        return conflict_response(result)
    return json_response(
        result,
        201,
        {"ETag": f'"{result["version"]}"', "Location": f"/v1/bookings/{result['booking_id']}"},
    )


async def get_booking(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    result = await g.engine.get_reservation(who, request.path_params["id"])
    etag = f'"{result["version"]}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return json_response(result, headers={"ETag": etag})


async def list_bookings(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    q = query_fields(request)
    user_id = q.text("user_id") or who.sub
    items = await g.engine.list_reservations(
        who, user_id, q.timestamp("from"), q.timestamp("to"), q.req_integer("limit")
    )
    return json_response({"user_id": user_id, "items": items})


async def cancel_booking(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    f = await read_json(request, g.settings.max_body_bytes)
    result = await g.engine.cancel_booking(
        who, request.path_params["id"], f.text("reason"), version
    )
    if not result.get("success"):
        g.metrics.conflicts.labels(str(result.get("conflict_type"))).inc()
        return conflict_response(result)
    return json_response(result, headers={"ETag": f'"{result["version"]}"'})


async def reschedule_booking(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    f = await read_json(request, g.settings.max_body_bytes)
    result = await g.engine.reschedule_booking(
        who,
        request.path_params["id"],
        f.req_timestamp("start_time"),
        version,
        f.uuid("resource_id"),
    )
    if not result.get("success"):
        g.metrics.conflicts.labels(str(result.get("conflict_type"))).inc()
        return conflict_response(result)
    return json_response(result, headers={"ETag": f'"{result["version"]}"'})
