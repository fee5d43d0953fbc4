"""What one HTTP operation is, in one place: method and path, handler, the `api.*` function it
calls, and the typed models of its request and answers. Each route module exports a list of these
(`SPECS`); gateway/app.py builds the Starlette routes from them and gateway/http/openapi.py the
OpenAPI document, which gateway/http/validate.py checks every request against."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
JSON = "application/json"
_CONVERTER = re.compile(r":[a-z]+}")  # "{id:uuid}" in a Starlette path is "{id}" in the document


@dataclass(frozen=True, slots=True)
class Answer:
    """A documented answer that is not a problem: its model (None: no body), media type, the
    response headers it sets, and an example body."""

    description: str
    model: Any = None
    media_type: str = JSON
    headers: tuple[str, ...] = ()
    example: Any = None


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One operation. `path` is Starlette's, converters included (`/v1/holds/{id:uuid}`); the
    models are msgspec Structs (requests) and TypedDicts or Structs (answers).

    Problems the operation can answer, besides those its shape implies (see openapi.py):
    `errors` names the SQLSTATEs it can meet (their statuses come from the problem table),
    `conflicts` the conflict types it can answer, `problems` any status the handler raises itself.
    """

    method: Method
    path: str
    handler: Endpoint
    summary: str
    tag: str
    answers: dict[int, Answer]
    sql: str | None = None  # the api.* function called; its COMMENT is the description
    body: type | None = None
    body_required: bool = True
    body_example: Any = None
    path_params: type | None = None
    query: type | None = None
    headers: type | None = None
    errors: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    problems: dict[int, str] = field(default_factory=dict)
    public: bool = False  # no token needed (a bad token is still 401)
    database: bool = True  # may answer 503 when the database is unavailable

    @property
    def path_template(self) -> str:
        """The path as the OpenAPI document writes it: `/v1/holds/{id}`."""
        return _CONVERTER.sub("}", self.path)


def sqlstates(*codes: str) -> tuple[str, ...]:
    """SQLSTATEs as the SQL comments list them, ranges of engine codes included:
    `sqlstates("BK001-BK003", "BK014")` is BK001, BK002, BK003, BK014."""
    found: list[str] = []
    for code in codes:
        first, _, last = code.partition("-")
        numbers = range(int(first[2:]), int(last[2:]) + 1) if last else ()
        found += [f"BK{n:03d}" for n in numbers] if last else [first]
    return tuple(found)


class SpecRoute(Route):
    """A Starlette route that keeps its spec and the document it is described in, so request
    validation finds the operation's schemas from the matched route."""

    def __init__(self, spec: RouteSpec, document: dict[str, Any]) -> None:
        super().__init__(spec.path, spec.handler, methods=[spec.method])
        self.spec = spec
        self.document = document
        self.checks: Any = None  # the compiled request checks, made on first use (validate.py)
