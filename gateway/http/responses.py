"""Small HTTP helpers shared by the routes: JSON out, the caller in, entity tags."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.http import validate
from gateway.http.problems import Problem, forbidden, from_conflict, unauthorized
from gateway.principal import Principal, Role

JSON = "application/json"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status_code=status, headers=headers, media_type=JSON)


def raw_json_response(
    body: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, status_code=status, headers=headers, media_type=JSON)


def caller(request: Request, *roles: Role) -> Principal:
    """The authenticated caller (verified once by the middleware); 401/403 otherwise."""
    problem: Problem | None = getattr(request.state, "auth_problem", None)
    if problem is not None:
        raise problem
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise unauthorized("this route needs a Bearer token")
    if roles and principal.role not in roles:
        raise forbidden(f"this route is for {' or '.join(roles)} only")
    return principal


def optional_caller(request: Request) -> Principal | None:
    """The caller if a token was sent; a bad token is still a 401."""
    problem: Problem | None = getattr(request.state, "auth_problem", None)
    if problem is not None:
        raise problem
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


def etag_matches(header: str | None, etag: str) -> bool:
    """Weak comparison of If-None-Match against our tag (RFC 9110 §13.1.2)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == ours for t in header.split(","))


def expected_version(request: Request) -> int | None:
    """The version named by If-Match ("<n>" or W/"<n>", as its schema says); None when absent or
    '*'."""
    value = validate.header(request, "If-Match")
    if value is None or value == "*":
        return None
    return int(value.removeprefix("W/").strip('"'))


def conflict_response(result: Mapping[str, Any]) -> Response:
    """The 409 (or 412) problem for a conflict result, with Retry-After when it may free up."""
    problem = from_conflict(dict(result))
    retry_after = result.get("retry_after")
    if isinstance(retry_after, str):
        try:
            seconds = (datetime.fromisoformat(retry_after) - datetime.now(UTC)).total_seconds()
            problem.headers["Retry-After"] = str(max(1, int(seconds + 0.999)))
        except ValueError:
            pass
    return problem.response()


def entry_headers(version: int, location: str | None = None) -> dict[str, str]:
    """The ETag of a versioned entry (a booking, a catalogue entry: its version), and its
    Location when it was created."""
    headers = {"ETag": f'"{version}"'}
    if location is not None:
        headers["Location"] = location
    return headers
