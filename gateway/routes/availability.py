"""GET /v1/services/{id}/availability: free slots per local day, cached by availability version."""

from __future__ import annotations

import json
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.responses import etag_matches, optional_caller, raw_json_response
from gateway.http.validate import query_fields
from gateway.services.availability import availability_etag, day_slots, day_versions
from gateway.state import gateway


async def get_availability(request: Request) -> Response:
    g = gateway(request)
    optional_caller(request)
    service_id: UUID = request.path_params["id"]
    q = query_fields(request)
    day = q.day("date")
    days = q.req_integer("days")
    resource_id = q.uuid("resource_id")
    assert day is not None
    g.cache.popularity[service_id] += 1
    versions = await day_versions(g, service_id, day, days)
    if all(v.version > 0 for v in versions):  # a known version: If-None-Match needs no slots
        etag = availability_etag(versions)
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    versions, slots = await day_slots(g, service_id, day, days, resource_id, versions)
    etag = availability_etag(versions)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if all(v.version > 0 for v in versions) and etag_matches(
        request.headers.get("if-none-match"), etag
    ):
        return Response(status_code=304, headers=headers)
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
    )
    return raw_json_response(body, headers=headers)
