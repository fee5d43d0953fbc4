"""RFC 9457 problem details: one table from SQLSTATE to HTTP, one exception, one response.

Every error the gateway answers is `application/problem+json` with a stable `type` URI built
from a slug. The slugs and statuses of database errors live in `SQLSTATE_PROBLEMS` and nowhere
else; docs/ERRORS.md documents the same table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

PROBLEM_BASE = "https://booking.example/problems/"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    status: int
    slug: str
    title: str


# SQLSTATE -> (HTTP status, problem slug, title). Anything not listed is a bug: 500.
SQLSTATE_PROBLEMS: dict[str, ProblemKind] = {
    "BK001": ProblemKind(404, "unknown-service", "Unknown service"),
    "BK002": ProblemKind(422, "service-inactive", "Service no longer offered"),
    "BK003": ProblemKind(422, "outside-working-hours", "Nobody works at that time"),
    "BK004": ProblemKind(422, "too-soon", "Start is in the past or inside the minimum notice"),
    "BK005": ProblemKind(422, "too-far-ahead", "Start is beyond the advance booking limit"),
    "BK006": ProblemKind(422, "wrong-duration", "Slot length does not match the service"),
    "BK007": ProblemKind(422, "invalid-hold-expiry", "Hold expiry is not in the future"),
    "BK008": ProblemKind(404, "reservation-not-found", "Hold or booking not found"),
    "BK009": ProblemKind(403, "foreign-session", "Hold belongs to another session"),
    "BK010": ProblemKind(409, "invalid-state", "Reservation is not in a state that allows this"),
    "BK011": ProblemKind(422, "idempotency-key-reused", "Idempotency key used for another request"),
    "BK012": ProblemKind(422, "resource-not-eligible", "Resource does not perform this service"),
    "BK013": ProblemKind(422, "off-grid", "Start is not on the service's slot grid"),
    "BK014": ProblemKind(400, "invalid-argument", "Invalid argument"),
    "BK015": ProblemKind(403, "acting-as-another", "A customer can act only as itself"),
    "BK016": ProblemKind(409, "too-many-holds", "Too many live holds at this location"),
    "BK017": ProblemKind(403, "role-required", "This needs another role"),
    "42501": ProblemKind(403, "forbidden", "Not allowed for this role"),
    "22P02": ProblemKind(400, "invalid-argument", "Invalid argument"),
    "22007": ProblemKind(400, "invalid-argument", "Invalid argument"),
    "22008": ProblemKind(400, "invalid-argument", "Invalid argument"),
    "22023": ProblemKind(400, "invalid-argument", "Invalid argument"),
    "22021": ProblemKind(400, "invalid-argument", "Invalid argument"),
    "22P05": ProblemKind(400, "invalid-argument", "Invalid argument"),
    "23514": ProblemKind(422, "constraint-violated", "A value is outside what is allowed"),
}

# Conflict results (`success: false`) by conflict_type.
CONFLICT_PROBLEMS: dict[str, ProblemKind] = {
    "HOLD_CONFLICT": ProblemKind(409, "hold-conflict", "The time is held by someone else"),
    "BOOKING_CONFLICT": ProblemKind(409, "booking-conflict", "The time is already booked"),
    "CACHE_CONFLICT": ProblemKind(409, "cache-conflict", "The availability you saw is out of date"),
    "VERSION_CONFLICT": ProblemKind(
        412, "version-conflict", "The booking changed since you read it"
    ),
}

INTERNAL = ProblemKind(500, "internal-error", "Internal error")


@dataclass
class Problem(Exception):
    """An error answered as problem+json. `extra` members are added to the body."""

    status: int
    slug: str
    title: str
    detail: str | None = None
    code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.slug}: {self.detail or self.title}"

    @classmethod
    def of(
        cls, kind: ProblemKind, detail: str | None = None, code: str | None = None, **extra: Any
    ) -> Problem:
        return cls(kind.status, kind.slug, kind.title, detail, code, dict(extra))

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail is not None:
            doc["detail"] = self.detail
        if self.code is not None:
            doc["code"] = self.code
        for key, value in self.extra.items():
            doc.setdefault(key, value)
        return doc

    def response(self) -> Response:
        return Response(
            json.dumps(self.body(), separators=(",", ":")),
            status_code=self.status,
            headers=self.headers,
            media_type=PROBLEM_JSON,
        )


def from_sqlstate(sqlstate: str | None, message: str | None, hint: str | None = None) -> Problem:
    """The problem for a database error; unmapped SQLSTATEs are 500 without leaking the message."""
    kind = SQLSTATE_PROBLEMS.get(sqlstate or "")
    if kind is None:
        return Problem.of(INTERNAL, "unexpected database error", sqlstate)
    problem = Problem.of(kind, message, sqlstate)
    if hint:
        problem.extra["hint"] = hint
    return problem


def from_conflict(result: dict[str, Any]) -> Problem:
    """A 409 (or 412 for VERSION_CONFLICT) carrying the whole conflict object."""
    ctype = str(result.get("conflict_type") or "BOOKING_CONFLICT")
    kind = CONFLICT_PROBLEMS.get(ctype, CONFLICT_PROBLEMS["BOOKING_CONFLICT"])
    problem = Problem.of(kind, str(result.get("conflict_reason") or kind.title), ctype)
    problem.extra.update({k: v for k, v in result.items() if k != "success"})
    problem.extra["conflict"] = result
    return problem


# Problems raised by the gateway itself.
def bad_request(detail: str, **extra: Any) -> Problem:
    return Problem(400, "bad-request", "Bad request", detail, extra=dict(extra))


def validation(detail: str, errors: list[dict[str, str]] | None = None) -> Problem:
    return Problem(
        422,
        "validation-error",
        "Request body or parameters are invalid",
        detail,
        extra={"errors": errors or []},
    )


def unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="booking", error="invalid_token"'},
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Not allowed for this role", detail)


def not_found(detail: str = "no such resource") -> Problem:
    return Problem(404, "not-found", "Not found", detail)


def method_not_allowed(allowed: str) -> Problem:
    return Problem(
        405,
        "method-not-allowed",
        "Method not allowed",
        f"allowed: {allowed}",
        headers={"Allow": allowed},
    )


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "payload-too-large",
        "Request body too large",
        f"the body may have at most {limit} bytes",
    )


def unsupported_media_type() -> Problem:
    return Problem(
        415, "unsupported-media-type", "Unsupported media type", "send the body as application/json"
    )


def rate_limited(retry_after: float) -> Problem:
    seconds = max(1, int(retry_after + 0.999))
    return Problem(
        429,
        "rate-limited",
        "Too many requests",
        f"retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def unavailable(detail: str) -> Problem:
    return Problem(503, "unavailable", "Service unavailable", detail, headers={"Retry-After": "1"})
