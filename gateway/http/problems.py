"""Problems the HTTP layer answers: conflicts by type, and the gateway's own problems (bad
request, authentication, routing, size, media type, rate limit).

The Problem exception and the problems for database errors live in gateway/errors/problem.py (so
that services need not import this layer) and are re-exported here; the statuses and slugs of
conflicts come from the registry in gateway/errors/registry.py, as docs/ERRORS.md does.
"""

from __future__ import annotations

from typing import Any

from gateway.errors.problem import (
    INTERNAL,
    PROBLEM_BASE,
    PROBLEM_JSON,
    SQLSTATE_PROBLEMS,
    Problem,
    ProblemKind,
    from_sqlstate,
    unavailable,
)
from gateway.errors.registry import FORBIDDEN, answered_conflicts

__all__ = [
    "CONFLICT_PROBLEMS",
    "INTERNAL",
    "PROBLEM_BASE",
    "PROBLEM_JSON",
    "SQLSTATE_PROBLEMS",
    "Problem",
    "ProblemKind",
    "bad_request",
    "forbidden",
    "from_conflict",
    "from_sqlstate",
    "method_not_allowed",
    "not_found",
    "rate_limited",
    "too_large",
    "unauthorized",
    "unavailable",
    "unsupported_media_type",
    "validation",
]

# Conflict results (`success: false`) by conflict_type.
CONFLICT_PROBLEMS: dict[str, ProblemKind] = answered_conflicts()


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
    return Problem.of(FORBIDDEN, detail)


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
