"""RFC 9457 problem details: the one exception for an error the client is told about, and the
problems for database errors, by SQLSTATE, from the registry.

Every error the gateway answers is `application/problem+json` with a stable `type` URI built from
a slug. The slugs and statuses of database errors come from gateway/errors/registry.py and nowhere
else; docs/ERRORS.md is generated from the same registry. This module is outside gateway/http so
that the database layer (gateway/services/db.py) raises problems without importing the HTTP
layer; gateway/http/problems.py re-exports it beside the problems the HTTP layer raises itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from gateway.errors.registry import UNAVAILABLE, ProblemKind, answered_sqlstates

__all__ = [
    "INTERNAL",
    "PROBLEM_BASE",
    "PROBLEM_JSON",
    "SQLSTATE_PROBLEMS",
    "Problem",
    "ProblemKind",
    "from_sqlstate",
    "unavailable",
]

PROBLEM_BASE = "https://booking.example/problems/"
PROBLEM_JSON = "application/problem+json"

# SQLSTATE -> (HTTP status, problem slug, title). Anything not listed is a bug: 500.
SQLSTATE_PROBLEMS: dict[str, ProblemKind] = answered_sqlstates()

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


def unavailable(detail: str) -> Problem:
    """503 with Retry-After: the database cannot be reached (or has no free connection)."""
    problem = Problem.of(UNAVAILABLE, detail)
    problem.headers["Retry-After"] = "1"
    return problem
