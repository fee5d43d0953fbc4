"""The OpenAPI 3.1 document of the HTTP API, generated from the route specs (gateway/http/spec.py).

Each route module lists its operations with typed models; this module turns them into one
document:

- request and answer schemas come from the models (msgspec JSON Schema 2020-12 components); the
  few things a model cannot say are patched in `_patched` below, and only there;
- an operation's description is the `COMMENT ON FUNCTION` of the `api.*` function it calls, read
  from gateway/http/sql_comments.json, which `python -m gateway.cli.sqldoc` writes from the
  migrated catalog (tests/test_docs.py fails when it is stale), so no database is needed here;
- the problems an operation can answer follow from its shape (a body can be too large, a
  parameter invalid, a /v1 route rate-limited...) plus the SQLSTATEs, conflict types and
  gateway problems its spec names.

It is also the gateway's request validation: gateway/http/validate.py checks every body, path,
query and header parameter against this document, so what it allows is what the server accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NotRequired, TypedDict

import msgspec
from msgspec import Meta

from gateway.http.fields import NO_NUL
from gateway.http.problems import (
    CONFLICT_PROBLEMS,
    PROBLEM_BASE,
    PROBLEM_JSON,
    SQLSTATE_PROBLEMS,
)
from gateway.http.spec import JSON, RouteSpec
from gateway.services.results import Alternative, ConflictPool, ZoneText

J = dict[str, Any]
REF = "#/components/schemas/{name}"
SQL_COMMENTS = Path(__file__).with_name("sql_comments.json")
RATE_LIMITED_PREFIX = "/v1/"  # as gateway/http/middleware/ratelimit.py limits


class Problem(TypedDict):
    """RFC 9457 problem details; conflicts add the conflict's members (alternatives, the
    location's time_zone, the further pool that was taken...)."""

    type: Annotated[str, Meta(extra_json_schema={"format": "uri"})]
    title: str
    status: int
    detail: NotRequired[str]
    code: NotRequired[Annotated[str, Meta(description="SQLSTATE or conflict type")]]
    alternatives: NotRequired[list[Alternative]]
    time_zone: NotRequired[ZoneText]
    pool: NotRequired[ConflictPool]


def _ref(name: str) -> J:
    return {"$ref": REF.format(name=name)}


# What the models cannot express, in one place.
SCHEMA_PATCHES: J = {
    # free-form JSON without NUL text (PostgreSQL jsonb): recursive, so written by hand
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
}
COMPONENT_EXAMPLES: J = {
    "Problem": {
        "type": PROBLEM_BASE + "too-soon",
        "title": "Start is in the past",
        "status": 422,
        "detail": "the start is in the past",
        "code": "BK004",
    }
}


def _patched(components: J) -> J:
    """The generated components with the patches above: hand-written schemas added, examples set,
    and a `$ref` left alone (a field type naming a hand-written component through
    `extra_json_schema` also gets its own `type`, which would report every error twice)."""
    for name, example in COMPONENT_EXAMPLES.items():
        components[name]["example"] = example
    for schema in components.values():
        _bare_refs(schema)
    return components | SCHEMA_PATCHES


def _bare_refs(node: Any) -> None:
    if isinstance(node, dict):
        if "$ref" in node:
            for key in [k for k in node if k not in ("$ref", "description")]:
                del node[key]
        for value in node.values():
            _bare_refs(value)
    elif isinstance(node, list):
        for value in node:
            _bare_refs(value)


def load_sql_comments(path: Path = SQL_COMMENTS) -> dict[str, str]:
    """`api.<function>` -> its COMMENT, as sqldoc wrote them from the catalog."""
    comments: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return comments


# --- problems --------------------------------------------------------------------------------


def _problems(spec: RouteSpec, params: list[J]) -> dict[int, list[str]]:
    """Every problem status the operation can answer, each with what causes it."""
    found: dict[int, list[str]] = {}

    def add(status: int, why: str) -> None:
        found.setdefault(status, []).append(why)

    if spec.path.startswith(RATE_LIMITED_PREFIX):
        add(401, "Expired, forged or malformed token" + ("" if spec.public else ", or none"))
        add(429, "Rate limited; see Retry-After")
    if spec.body is not None:
        add(400, "The body is not JSON")
        add(413, "Body larger than the cap")
        add(415, "Body is not JSON (Content-Type)")
        add(422, "The body does not match its schema")
    if any(p["in"] == "query" for p in params) or any(
        p["in"] == "path" and "{" + p["name"] + "}" in spec.path for p in params
    ):  # a path parameter without a converter is checked against its schema
        add(422, "A parameter does not match its schema")
    for p in params:
        if p["in"] == "header" and p["required"]:
            add(422, f"No {p['name']} header")
        if p["in"] == "header" and set(p["schema"]) - {"type"}:
            add(400, f"A malformed {p['name']} header")
    if spec.database:
        add(503, "Database unavailable; see Retry-After")
    for state in spec.errors:
        kind = SQLSTATE_PROBLEMS[state]
        add(kind.status, f"{kind.title} ({state} `{kind.slug}`)")
    for ctype in spec.conflicts:
        kind = CONFLICT_PROBLEMS[ctype]
        add(kind.status, f"{kind.title} ({ctype}: the body carries the conflict and alternatives)")
    for status, why in spec.problems.items():
        add(status, why)
    return found


def _problem_answer(reasons: Iterable[str]) -> J:
    unique = list(dict.fromkeys(reasons))
    return {
        "description": "; ".join(unique),
        "content": {PROBLEM_JSON: {"schema": _ref("Problem")}},
    }


# --- operations ------------------------------------------------------------------------------


def _parameters(spec: RouteSpec) -> list[J]:
    """Path, query and header parameters from the spec's models, one per model field."""
    params: list[J] = []
    parts = (("path", spec.path_params), ("query", spec.query), ("header", spec.headers))
    for where, model in parts:
        if model is None:
            continue
        (_,), components = msgspec.json.schema_components([model], ref_template=REF)
        schema = components[model.__name__]
        required = set(schema.get("required", []))
        for name, field_schema in schema["properties"].items():
            field_schema = dict(field_schema)
            description = field_schema.pop("description", None)
            param: J = {
                "name": name,
                "in": where,
                "required": where == "path" or name in required,
                "schema": field_schema,
            }
            if description:
                param["description"] = description
            params.append(param)
    return params


def _operation(spec: RouteSpec, schemas: Mapping[Any, J], comments: Mapping[str, str]) -> J:
    params = _parameters(spec)
    responses: dict[int, J] = {}
    for status, answer in spec.answers.items():
        out: J = {"description": answer.description}
        if answer.headers:
            out["headers"] = {h: {"schema": {"type": "string"}} for h in answer.headers}
        if answer.model is not None:
            content: J = {"schema": schemas[answer.model]}
            if answer.example is not None:
                content["example"] = answer.example
            out["content"] = {answer.media_type: content}
        responses[status] = out
    for status, reasons in _problems(spec, params).items():
        assert status not in responses, (spec.method, spec.path, status)
        responses[status] = _problem_answer(reasons)
    op: J = {"summary": spec.summary, "tags": [spec.tag]}
    if spec.sql is not None:
        op["description"] = f"Calls `{spec.sql}`. {comments[spec.sql]}"
        op["x-sql-function"] = spec.sql
    op["responses"] = {str(s): responses[s] for s in sorted(responses)}
    if spec.public:
        op["security"] = []
    if spec.body is not None:
        body: J = {"schema": schemas[spec.body]}
        if spec.body_example is not None:
            body["example"] = spec.body_example
        op["requestBody"] = {"required": spec.body_required, "content": {JSON: body}}
    if params:
        op["parameters"] = params
    return op


def _models(specs: Sequence[RouteSpec]) -> list[Any]:
    """Every body and answer model, each once, in the order the specs name them."""
    models: list[Any] = [Problem]
    for spec in specs:
        if spec.body is not None:
            models.append(spec.body)
        models += [a.model for a in spec.answers.values() if a.model is not None]
    return list(dict.fromkeys(models))


def _errors_description() -> str:
    lines = ["Problem types (application/problem+json, RFC 9457):", ""]
    for state, kind in SQLSTATE_PROBLEMS.items():
        lines.append(f"- `{state}` → {kind.status} `{PROBLEM_BASE}{kind.slug}`")
    for ctype, kind in CONFLICT_PROBLEMS.items():
        lines.append(f"- `{ctype}` → {kind.status} `{PROBLEM_BASE}{kind.slug}`")
    return "\n".join(lines)


def build_document(specs: Sequence[RouteSpec], comments: Mapping[str, str] | None = None) -> J:
    """The OpenAPI document describing exactly these operations."""
    comments = load_sql_comments() if comments is None else comments
    models = _models(specs)
    refs, components = msgspec.json.schema_components(models, ref_template=REF)
    schemas = dict(zip(models, refs, strict=True))
    paths: J = {}
    for spec in specs:
        paths.setdefault(spec.path_template, {})[spec.method.lower()] = _operation(
            spec, schemas, comments
        )
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
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": _patched(components),
        },
    }
