"""The OpenAPI 3.1 description of the HTTP API, built once from plain data.

It is also the gateway's request validation: gateway/http/validate.py checks every body, query and
header parameter against the schemas below, so what this document allows is what the server
accepts.
"""

from __future__ import annotations

import functools
from typing import Any

from gateway.http.problems import CONFLICT_PROBLEMS, PROBLEM_BASE, PROBLEM_JSON, SQLSTATE_PROBLEMS

J = dict[str, Any]
UUID_S: J = {"type": "string", "format": "uuid"}
TS: J = {"type": "string", "format": "date-time"}  # in answers
# Dates in requests stay within these years: the engine accepts more, but Python's date type ends
# with 9999 and a range of days near it would overflow when read back.
YEARS = "^(19[0-9]{2}|[2-8][0-9]{3}|9000)-"
NO_NUL = "^[^\\u0000]*$"  # PostgreSQL text cannot hold NUL
LOCAL_DATE_TIME = "local-date-time"
BIGINT_MAX = 2**63 - 1
MAX_DAYS = 62
INSTANT: J = {"type": "string", "format": "date-time", "pattern": YEARS}
DAY: J = {"type": "string", "format": "date", "pattern": YEARS}
WALL_OR_INSTANT: J = {
    "type": "string",
    "pattern": YEARS,
    "anyOf": [{"format": "date-time"}, {"format": LOCAL_DATE_TIME}],
    "description": "an instant with an offset (2027-03-28T10:30:00+02:00), or a wall-clock time "
    "at the service's location without one (2027-03-28T10:30, seconds optional). A wall-clock "
    "time the location's clocks skip (spring forward) is 422 off-grid (BK013); one they show "
    "twice (fall back) means its second occurrence, in standard time.",
}
SEEN_VERSION: J = {
    "type": "integer",
    "minimum": 0,
    "maximum": BIGINT_MAX,
    "description": "the availability version the slot was chosen from (`versions[<day>]` of "
    "GET availability, the number in its one-day ETag): a slot taken after it is 409 "
    "CACHE_CONFLICT, telling the caller to refresh what it shows",
}


def _text(max_length: int = 200, description: str | None = None) -> J:
    schema: J = {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": NO_NUL}
    if description:
        schema["description"] = description
    return schema


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


API_PROBLEMS = {  # any /v1 operation
    "400": "Malformed request (bad JSON, bad header, invalid argument)",
    "401": "Expired, forged or malformed token (or none where one is needed)",
    "429": "Rate limited; see Retry-After",
}
BODY_PROBLEMS = {
    "413": "Body larger than the cap",
    "415": "Body is not JSON",
}
INVALID = "Request is well-formed but invalid"
UNAVAILABLE = "Database unavailable; see Retry-After"


def _op(
    summary: str,
    ok: dict[str, J],
    *extra: tuple[str, str],
    body: J | None = None,
    body_required: bool = True,
    params: list[J] | None = None,
    auth: bool = True,
    tag: str = "bookings",
    database: bool = True,
) -> J:
    """One /v1 operation: its own answers plus the problems every such operation can give."""
    problems = dict(API_PROBLEMS)
    if body is not None:
        problems |= BODY_PROBLEMS
    checked = [p for p in params or [] if p["in"] == "query" or p["required"]]
    if body is not None or checked:
        problems["422"] = INVALID
    if database:
        problems["503"] = UNAVAILABLE
    problems |= dict(extra)
    responses: J = dict(ok) | {status: _problem(text) for status, text in sorted(problems.items())}
    op: J = {"summary": summary, "tags": [tag], "responses": responses}
    if not auth:
        op["security"] = []
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": body}
    if params:
        op["parameters"] = params
    return op


def _ops_op(summary: str, responses: J) -> J:
    """An operations route: public, not rate-limited, no parameters."""
    return {"summary": summary, "tags": ["operations"], "security": [], "responses": responses}


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
    {"type": "string", "pattern": r'^(\*|(W/)?"[0-9]{1,18}")$'},
    description='the version you read, as an entity tag: "3" (or * for any)',
)
ETAG_H = {"ETag": {"schema": {"type": "string"}}}

CONFLICT = (
    "409",
    "The time is taken: the body carries the conflict object with alternatives (CACHE_CONFLICT "
    "when it was taken after the seen_version sent)",
)
NOT_FOUND = ("404", "Unknown hold or booking (or not yours)")
FORBIDDEN = ("403", "Not allowed for this caller")

LOCK_OWNER = _text(description="default: the token's subject")
LOCK_TTL: J = {"type": "integer", "minimum": 1, "maximum": 86400, "default": 30}
LOCK_TOKEN: J = {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}

SCHEMAS: J = {
    "BookingData": {
        "type": "object",
        "propertyNames": {"pattern": NO_NUL},
        "additionalProperties": _ref("JsonValue"),
        "description": "free-form details kept with the booking (PostgreSQL jsonb: no NUL text)",
    },
    "JsonValue": {
        "anyOf": [
            {"type": ["number", "boolean", "null"]},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": _ref("JsonValue")},
            _ref("BookingData"),
        ]
    },
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
            "start_time": WALL_OR_INSTANT,
            "end_time": WALL_OR_INSTANT,
            "resource_id": UUID_S,
            "session_id": _text(
                description="generated when not sent; needed to convert or release"
            ),
            "expires_at": INSTANT,
            "slot_id": _text(),
            "user_id": _text(description="staff/admin only: act for this customer"),
            "seen_version": SEEN_VERSION,
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
        "required": ["session_id"],
        "properties": {
            "session_id": _text(description="the session_id the hold was created with"),
            "booking_data": _ref("BookingData"),
        },
        "example": {"session_id": "3f9d...", "booking_data": {"note": "first visit"}},
    },
    "BookingRequest": {
        "type": "object",
        "required": ["service_id", "start_time"],
        "properties": {
            "service_id": UUID_S,
            "start_time": WALL_OR_INSTANT,
            "resource_id": UUID_S,
            "booking_data": _ref("BookingData"),
            "user_id": _text(description="staff/admin only: act for this customer"),
            "seen_version": SEEN_VERSION,
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
        "properties": {"reason": _text(500)},
    },
    "RescheduleRequest": {
        "type": "object",
        "required": ["start_time"],
        "properties": {"start_time": INSTANT, "resource_id": UUID_S},
        "example": {"start_time": "2026-12-07T14:00:00+01:00"},
    },
    "LockRequest": {
        "type": "object",
        "properties": {"owner": LOCK_OWNER, "ttl_seconds": LOCK_TTL},
        "example": {"ttl_seconds": 30},
    },
    "LockRenewRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {"token": LOCK_TOKEN, "owner": LOCK_OWNER, "ttl_seconds": LOCK_TTL},
        "example": {"token": 17, "ttl_seconds": 30},
    },
    "LockReleaseRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {"token": LOCK_TOKEN, "owner": LOCK_OWNER},
        "example": {"token": 17},
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
            "note": _text(1000),
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
            "tags": {
                "type": "array",
                "items": {
                    "type": "string",
                    "maxLength": 200,
                    "pattern": "^(service|resource|day):[^\\u0000]+$",
                },
                "minItems": 1,
                "maxItems": 100,
                "description": "service:<id>, resource:<id> or day:<YYYY-MM-DD>",
            },
            "mode": {"enum": ["immediate", "lazy"], "default": "immediate"},
        },
        "example": {"tags": [f"service:{SVC}", "day:2026-12-07"], "mode": "immediate"},
    },
    "WarmRequest": {
        "type": "object",
        "properties": {
            "days": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": 7},
            "top": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
            "service_ids": {
                "type": "array",
                "items": UUID_S,
                "maxItems": 100,
                "description": "default: the services whose availability was asked for most",
            },
        },
        "example": {"days": 7},
    },
}


def _paths() -> J:
    lock_key = _param(
        "key",
        "path",
        {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^/\\u0000]*$"},
    )
    obj: J = {"type": "object"}
    return {
        "/health": {
            "get": _ops_op(
                "Liveness and the database health report",
                {
                    "200": {"description": "Alive", "content": _json(obj)},
                    "503": _problem(UNAVAILABLE),
                },
            )
        },
        "/ready": {
            "get": _ops_op(
                "Readiness: database, listener, Redis (ok/degraded/absent)",
                {
                    "200": {"description": "Ready or degraded", "content": _json(obj)},
                    "503": {"description": "The database is down", "content": _json(obj)},
                },
            )
        },
        "/metrics": {
            "get": _ops_op(
                "Prometheus metrics",
                {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
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
                    _param("date", "query", DAY, True, "the first local day"),
                    _param(
                        "days",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": 1},
                    ),
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
                params=[
                    ID,
                    _param(
                        "X-Session-Id",
                        "header",
                        _text(),
                        True,
                        "the session_id the hold was created with",
                    ),
                ],
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
                        description="1 to 255 characters naming this request",
                    )
                ],
                body=_json(_ref("BookingRequest")),
            ),
            "get": _op(
                "List your holds and bookings (staff/admin: ?user_id=)",
                {"200": {"description": "Newest first", "content": _json(_ref("ReservationList"))}},
                FORBIDDEN,
                params=[
                    _param("user_id", "query", _text()),
                    _param("from", "query", INSTANT),
                    _param("to", "query", INSTANT),
                    _param(
                        "limit",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                    ),
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
                body_required=False,
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
                body_required=False,
                tag="locks",
            ),
            "delete": _op(
                "Release a lease with its token (admin)",
                {"204": {"description": "Released"}},
                FORBIDDEN,
                ("409", "Not held with that token"),
                params=[lock_key],
                body=_json(_ref("LockReleaseRequest")),
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
                body=_json(_ref("LockRenewRequest")),
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
                        {"type": "integer", "minimum": 1, "maximum": 366 * 86400, "default": 3600},
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
                database=False,
            )
        },
        "/v1/cache/warm": {
            "post": _op(
                "Warm the next N days of popular (or named) services (admin)",
                {"200": {"description": "Done", "content": _json(obj)}},
                FORBIDDEN,
                body=_json(_ref("WarmRequest")),
                body_required=False,
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
