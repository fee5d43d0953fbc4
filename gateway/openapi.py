"""The OpenAPI 3.1 description of the HTTP API, built once from plain data."""

from __future__ import annotations

import functools
from typing import Any

from gateway.problems import CONFLICT_PROBLEMS, PROBLEM_BASE, PROBLEM_JSON, SQLSTATE_PROBLEMS

J = dict[str, Any]
UUID_S: J = {"type": "string", "format": "uuid"}
TS: J = {"type": "string", "format": "date-time"}
SVC = "30000000-0000-4000-8000-000000000001"
HOLD = "7b0c2f1e-9a55-4e0a-b1f4-0d6a4b0f3c11"


def _ref(name: str) -> J:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: J, example: Any = None) -> J:
    content: J = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"application/json": content}


def _problem(description: str) -> J:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _ref("Problem")}}}


COMMON = {
    "400": "Malformed request (bad JSON, bad header, invalid argument)",
    "401": "Missing, expired or forged token",
    "413": "Body larger than the cap",
    "415": "Body is not JSON",
    "422": "Request is well-formed but invalid",
    "429": "Rate limited; see Retry-After",
    "503": "Database unavailable",
}


def _responses(ok: dict[str, J], *extra: tuple[str, str], auth: bool = True) -> J:
    out: J = dict(ok)
    for status, text in COMMON.items():
        if status != "401" or auth:
            out[status] = _problem(text)
    for status, text in extra:
        out[status] = _problem(text)
    return out


def _op(
    summary: str,
    ok: dict[str, J],
    *extra: tuple[str, str],
    body: J | None = None,
    params: list[J] | None = None,
    auth: bool = True,
    tag: str = "bookings",
) -> J:
    op: J = {"summary": summary, "tags": [tag], "responses": _responses(ok, *extra, auth=auth)}
    if not auth:
        op["security"] = []
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    if params:
        op["parameters"] = params
    return op


def _param(name: str, where: str, schema: J, required: bool = False, description: str = "") -> J:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": description,
    }


ID = _param("id", "path", UUID_S, description="hold or booking id")
IF_MATCH = _param(
    "If-Match",
    "header",
    {"type": "string", "pattern": r'^(W/)?"[0-9]{1,18}"$'},
    description='the version you read, as an entity tag: "3"',
)
ETAG_H = {"ETag": {"schema": {"type": "string"}}}

CONFLICT = ("409", "The time is taken: the body carries the conflict object with alternatives")
NOT_FOUND = ("404", "Unknown hold or booking (or not yours)")
FORBIDDEN = ("403", "Not allowed for this caller")

SCHEMAS: J = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "SQLSTATE or conflict type"},
            "alternatives": {"type": "array", "items": _ref("Alternative")},
        },
        "example": {
            "type": PROBLEM_BASE + "too-soon",
            "title": "Start is in the past",
            "status": 422,
            "detail": "the start is in the past",
            "code": "BK004",
        },
    },
    "Alternative": {
        "type": "object",
        "properties": {
            "slot_id": {"type": "string"},
            "start_time": TS,
            "end_time": TS,
            "resource_id": UUID_S,
        },
    },
    "Slot": {
        "type": "object",
        "required": ["slot_id", "start_time", "end_time", "resource_ids"],
        "properties": {
            "slot_id": {"type": "string"},
            "start_time": TS,
            "end_time": TS,
            "resource_ids": {"type": "array", "items": UUID_S},
        },
    },
    "Availability": {
        "type": "object",
        "required": ["service_id", "date", "days", "versions", "slots"],
        "properties": {
            "service_id": UUID_S,
            "date": {"type": "string", "format": "date"},
            "days": {"type": "integer"},
            "resource_id": {"type": ["string", "null"], "format": "uuid"},
            "versions": {"type": "object", "additionalProperties": {"type": "integer"}},
            "slots": {"type": "array", "items": _ref("Slot")},
        },
        "example": {
            "service_id": SVC,
            "date": "2026-12-07",
            "days": 1,
            "resource_id": None,
            "versions": {"2026-12-07": 42},
            "slots": [
                {
                    "slot_id": f"{SVC}@2026-12-07T09:00:00Z",
                    "start_time": "2026-12-07T09:00:00+00:00",
                    "end_time": "2026-12-07T10:00:00+00:00",
                    "resource_ids": ["20000000-0000-4000-8000-000000000001"],
                }
            ],
        },
    },
    "HoldRequest": {
        "type": "object",
        "required": ["service_id", "start_time"],
        "properties": {
            "service_id": UUID_S,
            "start_time": TS,
            "end_time": TS,
            "resource_id": UUID_S,
            "session_id": {"type": "string", "maxLength": 200},
            "expires_at": TS,
            "slot_id": {"type": "string", "maxLength": 200},
            "user_id": {
                "type": "string",
                "maxLength": 200,
                "description": "staff/admin only: act for this customer",
            },
        },
        "example": {
            "service_id": SVC,
            "start_time": "2026-12-07T10:00:00+01:00",
            "end_time": "2026-12-07T11:00:00+01:00",
        },
    },
    "Hold": {
        "type": "object",
        "required": ["success", "hold_id", "session_id", "version"],
        "properties": {
            "success": {"const": True},
            "hold_id": UUID_S,
            "resource_id": UUID_S,
            "start_time": TS,
            "end_time": TS,
            "expires_at": TS,
            "version": {"type": "integer"},
            "session_id": {"type": "string"},
        },
        "example": {
            "success": True,
            "hold_id": HOLD,
            "session_id": "3f9d...",
            "resource_id": "20000000-0000-4000-8000-000000000001",
            "start_time": "2026-12-07T09:00:00+00:00",
            "end_time": "2026-12-07T10:00:00+00:00",
            "expires_at": "2026-12-01T12:10:00+00:00",
            "version": 1,
        },
    },
    "HoldRelease": {
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "hold_id": UUID_S,
            "status": {"type": "string"},
            "version": {"type": "integer"},
        },
    },
    "ConvertRequest": {
        "type": "object",
        "properties": {
            "session_id": {"type": "string", "maxLength": 200},
            "booking_data": {"type": "object"},
        },
        "example": {"session_id": "3f9d...", "booking_data": {"note": "first visit"}},
    },
    "BookingRequest": {
        "type": "object",
        "required": ["service_id", "start_time"],
        "properties": {
            "service_id": UUID_S,
            "start_time": TS,
            "resource_id": UUID_S,
            "booking_data": {"type": "object"},
            "user_id": {"type": "string", "maxLength": 200},
        },
        "example": {
            "service_id": SVC,
            "start_time": "2026-12-07T12:00:00+01:00",
            "booking_data": {"note": "allergic to latex"},
        },
    },
    "BookingResult": {
        "type": "object",
        "required": ["success", "booking_id", "status", "version"],
        "properties": {
            "success": {"type": "boolean"},
            "booking_id": UUID_S,
            "status": {"type": "string"},
            "version": {"type": "integer"},
            "resource_id": UUID_S,
            "start_time": TS,
            "end_time": TS,
        },
        "example": {
            "success": True,
            "booking_id": HOLD,
            "status": "confirmed",
            "version": 2,
            "resource_id": "20000000-0000-4000-8000-000000000001",
            "start_time": "2026-12-07T09:00:00+00:00",
            "end_time": "2026-12-07T10:00:00+00:00",
        },
    },
    "Reservation": {
        "type": "object",
        "required": ["id", "status", "version"],
        "properties": {
            "id": UUID_S,
            "status": {"type": "string"},
            "service_id": UUID_S,
            "resource_id": UUID_S,
            "location_id": UUID_S,
            "start_time": TS,
            "end_time": TS,
            "expires_at": {"type": ["string", "null"]},
            "version": {"type": "integer"},
            "details": {"type": "object"},
            "customer": {"type": ["string", "null"]},
            "cancel_reason": {"type": ["string", "null"]},
            "created_at": TS,
            "updated_at": TS,
        },
    },
    "ReservationList": {
        "type": "object",
        "required": ["user_id", "items"],
        "properties": {
            "user_id": {"type": "string"},
            "items": {"type": "array", "items": _ref("Reservation")},
        },
    },
    "CancelRequest": {
        "type": "object",
        "properties": {"reason": {"type": "string", "maxLength": 500}},
    },
    "RescheduleRequest": {
        "type": "object",
        "required": ["start_time"],
        "properties": {"start_time": TS, "resource_id": UUID_S},
        "example": {"start_time": "2026-12-07T14:00:00+01:00"},
    },
    "LockRequest": {
        "type": "object",
        "properties": {
            "owner": {"type": "string", "maxLength": 200},
            "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 86400},
            "token": {"type": "integer", "minimum": 1},
        },
        "example": {"ttl_seconds": 30},
    },
    "Lock": {
        "type": "object",
        "required": ["key", "owner"],
        "properties": {
            "key": {"type": "string"},
            "owner": {"type": "string"},
            "token": {"type": "integer"},
            "renewed": {"type": "boolean"},
        },
        "example": {"key": "nightly-cleanup", "owner": "ops", "token": 17},
    },
    "ItemList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"type": "object"}}},
    },
    "ResolveRequest": {
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {"enum": ["keep_existing", "grant_requester", "offer_alternative"]},
            "note": {"type": "string", "maxLength": 1000},
        },
        "example": {"decision": "offer_alternative", "note": "called the customer"},
    },
    "ConfirmRequest": {
        "type": "object",
        "required": ["accept"],
        "properties": {"accept": {"type": "boolean"}},
        "example": {"accept": True},
    },
    "InvalidateRequest": {
        "type": "object",
        "required": ["tags"],
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "mode": {"enum": ["immediate", "lazy"]},
        },
        "example": {"tags": [f"service:{SVC}", "day:2026-12-07"], "mode": "immediate"},
    },
    "WarmRequest": {
        "type": "object",
        "properties": {
            "days": {"type": "integer", "minimum": 1, "maximum": 62},
            "top": {"type": "integer", "minimum": 1, "maximum": 100},
            "service_ids": {"type": "array", "items": UUID_S},
        },
        "example": {"days": 7},
    },
}


def _paths() -> J:
    lock_key = _param("key", "path", {"type": "string", "minLength": 1, "maxLength": 200})
    obj: J = {"type": "object"}
    return {
        "/health": {
            "get": _op(
                "Liveness and the database health report",
                {"200": {"description": "Alive", "content": _json(obj)}},
                auth=False,
                tag="operations",
            )
        },
        "/ready": {
            "get": _op(
                "Readiness: database, listener, Redis (ok/degraded/absent)",
                {"200": {"description": "Ready or degraded", "content": _json(obj)}},
                auth=False,
                tag="operations",
            )
        },
        "/metrics": {
            "get": _op(
                "Prometheus metrics",
                {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
                auth=False,
                tag="operations",
            )
        },
        "/v1/services/{id}/availability": {
            "get": _op(
                "Free slots of a service per local day (public, cached, ETag)",
                {
                    "200": {
                        "description": "Free slots",
                        "headers": ETAG_H,
                        "content": _json(_ref("Availability")),
                    },
                    "304": {"description": "Not modified (If-None-Match matched)"},
                },
                ("404", "Unknown service"),
                params=[
                    _param("id", "path", UUID_S, description="service id"),
                    _param("date", "query", {"type": "string", "format": "date"}, True),
                    _param("days", "query", {"type": "integer", "minimum": 1, "maximum": 62}),
                    _param("resource_id", "query", UUID_S),
                    _param("If-None-Match", "header", {"type": "string"}),
                ],
                auth=False,
                tag="availability",
            )
        },
        "/v1/holds": {
            "post": _op(
                "Hold a slot for a few minutes",
                {"201": {"description": "Held", "content": _json(_ref("Hold"))}},
                CONFLICT,
                FORBIDDEN,
                ("404", "Unknown service"),
                body=_json(_ref("HoldRequest")),
                tag="holds",
            )
        },
        "/v1/holds/{id}": {
            "delete": _op(
                "Release a hold",
                {
                    "200": {
                        "description": "Released (or already ended)",
                        "content": _json(_ref("HoldRelease")),
                    }
                },
                NOT_FOUND,
                FORBIDDEN,
                ("409", "Already a booking"),
                params=[ID, _param("X-Session-Id", "header", {"type": "string"})],
                tag="holds",
            )
        },
        "/v1/holds/{id}/booking": {
            "post": _op(
                "Turn a hold into a booking (same id)",
                {
                    "201": {
                        "description": "Booked",
                        "headers": ETAG_H,
                        "content": _json(_ref("BookingResult")),
                    }
                },
                NOT_FOUND,
                FORBIDDEN,
                CONFLICT,
                params=[ID],
                body=_json(_ref("ConvertRequest")),
                tag="holds",
            )
        },
        "/v1/bookings": {
            "post": _op(
                "Book directly; Idempotency-Key makes retries safe",
                {
                    "201": {
                        "description": "Booked (or the first answer, replayed)",
                        "headers": ETAG_H,
                        "content": _json(_ref("BookingResult")),
                    }
                },
                CONFLICT,
                FORBIDDEN,
                ("404", "Unknown service"),
                params=[
                    _param(
                        "Idempotency-Key",
                        "header",
                        {"type": "string", "minLength": 1, "maxLength": 255},
                    )
                ],
                body=_json(_ref("BookingRequest")),
            ),
            "get": _op(
                "List your holds and bookings (staff/admin: ?user_id=)",
                {"200": {"description": "Newest first", "content": _json(_ref("ReservationList"))}},
                FORBIDDEN,
                params=[
                    _param("user_id", "query", {"type": "string"}),
                    _param("from", "query", TS),
                    _param("to", "query", TS),
                    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}),
                ],
            ),
        },
        "/v1/bookings/{id}": {
            "get": _op(
                "One hold or booking; ETag is its version",
                {
                    "200": {
                        "description": "Found",
                        "headers": ETAG_H,
                        "content": _json(_ref("Reservation")),
                    },
                    "304": {"description": "Not modified"},
                },
                NOT_FOUND,
                FORBIDDEN,
                params=[ID, _param("If-None-Match", "header", {"type": "string"})],
            )
        },
        "/v1/bookings/{id}/cancel": {
            "post": _op(
                "Cancel a booking; If-Match guards against a stale read",
                {
                    "200": {
                        "description": "Cancelled",
                        "headers": ETAG_H,
                        "content": _json(_ref("BookingResult")),
                    }
                },
                NOT_FOUND,
                FORBIDDEN,
                ("409", "Not a booking (a hold)"),
                ("412", "Version changed since read (VERSION_CONFLICT)"),
                params=[ID, IF_MATCH],
                body=_json(_ref("CancelRequest")),
            )
        },
        "/v1/bookings/{id}/reschedule": {
            "post": _op(
                "Move a booking in one transaction; If-Match guards against a stale read",
                {
                    "200": {
                        "description": "Moved",
                        "headers": ETAG_H,
                        "content": _json(_ref("BookingResult")),
                    }
                },
                NOT_FOUND,
                FORBIDDEN,
                CONFLICT,
                ("412", "Version changed since read (VERSION_CONFLICT)"),
                params=[ID, IF_MATCH],
                body=_json(_ref("RescheduleRequest")),
            )
        },
        "/v1/locks/{key}": {
            "post": _op(
                "Acquire a fenced lease (admin)",
                {"201": {"description": "Acquired", "content": _json(_ref("Lock"))}},
                FORBIDDEN,
                ("409", "Held by another owner"),
                params=[lock_key],
                body=_json(_ref("LockRequest")),
                tag="locks",
            ),
            "delete": _op(
                "Release a lease with its token (admin)",
                {"204": {"description": "Released"}},
                FORBIDDEN,
                ("409", "Not held with that token"),
                params=[lock_key],
                body=_json(_ref("LockRequest")),
                tag="locks",
            ),
        },
        "/v1/locks/{key}/renew": {
            "post": _op(
                "Renew a lease with its token (admin)",
                {"200": {"description": "Renewed", "content": _json(_ref("Lock"))}},
                FORBIDDEN,
                ("409", "Not held with that token"),
                params=[lock_key],
                body=_json(_ref("LockRequest")),
                tag="locks",
            )
        },
        "/v1/conflicts": {
            "get": _op(
                "Open conflicts and those awaiting confirmation (staff, admin)",
                {"200": {"description": "Oldest first", "content": _json(_ref("ItemList"))}},
                FORBIDDEN,
                tag="conflicts",
            )
        },
        "/v1/conflicts/metrics": {
            "get": _op(
                "Conflict metrics over a window (staff, admin)",
                {"200": {"description": "Metrics", "content": _json(obj)}},
                FORBIDDEN,
                params=[
                    _param(
                        "window_seconds",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": 366 * 86400},
                    )
                ],
                tag="conflicts",
            )
        },
        "/v1/conflicts/recommendations": {
            "get": _op(
                "Hot services and hours, and the change that would help (staff, admin)",
                {"200": {"description": "Recommendations", "content": _json(_ref("ItemList"))}},
                FORBIDDEN,
                tag="conflicts",
            )
        },
        "/v1/conflicts/{id}/resolve": {
            "post": _op(
                "Settle an escalated conflict (admin)",
                {"200": {"description": "Resolved", "content": _json(obj)}},
                FORBIDDEN,
                ("404", "Unknown conflict"),
                ("409", "Not open / taken meanwhile"),
                params=[_param("id", "path", UUID_S)],
                body=_json(_ref("ResolveRequest")),
                tag="conflicts",
            )
        },
        "/v1/conflicts/{id}/confirm": {
            "post": _op(
                "Accept or decline the alternative offered to you",
                {"200": {"description": "Done", "content": _json(obj)}},
                FORBIDDEN,
                ("404", "Unknown conflict (or not yours)"),
                ("409", "Not awaiting confirmation / taken meanwhile"),
                params=[_param("id", "path", UUID_S)],
                body=_json(_ref("ConfirmRequest")),
                tag="conflicts",
            )
        },
        "/v1/cache/invalidate": {
            "post": _op(
                "Invalidate cached availability by tag (admin)",
                {"200": {"description": "Done", "content": _json(obj)}},
                FORBIDDEN,
                body=_json(_ref("InvalidateRequest")),
                tag="cache",
            )
        },
        "/v1/cache/warm": {
            "post": _op(
                "Warm the next N days of popular (or named) services (admin)",
                {"200": {"description": "Done", "content": _json(obj)}},
                FORBIDDEN,
                body=_json(_ref("WarmRequest")),
                tag="cache",
            )
        },
    }


def _errors_description() -> str:
    lines = ["Problem types (application/problem+json, RFC 9457):", ""]
    for state, kind in SQLSTATE_PROBLEMS.items():
        lines.append(f"- `{state}` → {kind.status} `{PROBLEM_BASE}{kind.slug}`")
    for ctype, kind in CONFLICT_PROBLEMS.items():
        lines.append(f"- `{ctype}` → {kind.status} `{PROBLEM_BASE}{kind.slug}`")
    return "\n".join(lines)


@functools.cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Atomic booking API",
            "version": "1.0.0",
            "description": "Thin HTTP gateway over the PostgreSQL booking engine. Authenticate "
            "with a Bearer JWT (HS256; claims sub, role, exp). " + _errors_description(),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": SCHEMAS,
        },
    }
