"""Request checks against the OpenAPI document: a request's body, query and headers must be what
its operation in gateway/http/openapi.py describes, and nothing else decides. The same schemas are
served at /openapi.json, so the document and the server cannot disagree on what is well-formed.

Only the shape of a request is checked here (types, formats, lengths, ranges). Whether a time can
be booked is the database's business.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import jsonschema_rs
from starlette.requests import Request
from starlette.routing import Route

from gateway.http.openapi import LOCAL_DATE_TIME, NO_NUL, YEARS, openapi_document
from gateway.http.problems import bad_request, too_large, unsupported_media_type, validation

DEFAULT_BODY_LIMIT = 64 * 1024
DRAFT = "https://json-schema.org/draft/2020-12/schema"  # the dialect of OpenAPI 3.1

J = dict[str, Any]

# RFC 3339 date-time (offset required) and the same wall-clock time without an offset, whose
# seconds may be left out as an HTML datetime-local input leaves them out
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRACTION = re.compile(r"(\.\d{6})\d+")  # Python keeps microseconds; finer digits are dropped
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_CONVERTER = re.compile(r":[a-z]+}")  # "{id:uuid}" in a Starlette path is "{id}" in the document


def parse_instant(text: str) -> datetime:
    """An RFC 3339 date-time with an offset; ValueError otherwise."""
    if not _INSTANT.fullmatch(text):
        raise ValueError(text)
    return datetime.fromisoformat(_FRACTION.sub(r"\1", text.upper()))


def parse_local(text: str) -> datetime:
    """A wall-clock date and time without an offset (naive); ValueError otherwise."""
    if not _LOCAL.fullmatch(text):
        raise ValueError(text)
    return datetime.fromisoformat(_FRACTION.sub(r"\1", text.upper()))


def parse_day(text: str) -> date:
    if not _DAY.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def parse_time(text: str) -> datetime:
    """An instant (with an offset) or a wall-clock time (without one, naive)."""
    return parse_local(text) if _LOCAL.fullmatch(text) else parse_instant(text)


def _parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            parse(text)
        except ValueError:
            return False
        return True

    return check


# What each string format means here: exactly what the getters below can parse.
FORMATS = {
    "date-time": _parses(parse_instant),
    LOCAL_DATE_TIME: _parses(parse_local),
    "date": _parses(parse_day),
}


@dataclass(frozen=True)
class Checker:
    """One part of an operation (body, query or headers) as a compiled JSON Schema."""

    schema: J
    validator: jsonschema_rs.Validator
    where: str

    @classmethod
    def of(cls, schema: J, where: str) -> Checker:
        return cls(schema, _compiled(schema), where)

    def properties(self) -> J:
        schema = self.schema
        if "$ref" in schema:
            schema = openapi_document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        props: J = schema.get("properties", {})
        return props

    def check(self, doc: Any) -> Fields:
        try:
            errors = [_explain(e, self.where) for e in self.validator.iter_errors(doc)]
        except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800") is not text
            raise bad_request(f"the {self.where} holds text that is not valid Unicode") from exc
        if errors:
            raise validation(
                f"{self.where} field '{errors[0]['field']}' {errors[0]['message']}", errors
            )
        return Fields(doc, self.properties())


def _compiled(schema: J) -> jsonschema_rs.Validator:
    """A validator for a schema of the document, its references resolved in the document."""
    document = {"$schema": DRAFT, **schema, "components": openapi_document()["components"]}
    return jsonschema_rs.validator_for(document, formats=FORMATS, validate_formats=True)


def _explain(error: jsonschema_rs.ValidationError, where: str) -> dict[str, str]:
    """{field, in, message} for one schema violation, worded for the caller."""
    kind = error.kind
    field = str(error.instance_path[0]) if error.instance_path else ""
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        field, message = str(kind.property), "is required"
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern) and kind.pattern == YEARS:
        message = "is out of range (years 1900 to 9000)"
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern) and kind.pattern == NO_NUL:
        message = "must not contain NUL characters"
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Format):
        message = f"must be a {kind.format}" + (
            " with an offset (e.g. 2026-12-07T10:00:00+01:00)" if kind.format == "date-time" else ""
        )
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AnyOf):
        message = (
            "must be a date-time with an offset (2026-12-07T10:00:00+01:00)"
            " or a wall-clock time at the service's location without one (2026-12-07T10:00)"
        )
    else:
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return {"field": field or where, "in": where, "message": message}


def _operation(request: Request) -> tuple[str, str]:
    route = request.scope.get("route")
    assert isinstance(route, Route), "validation runs inside a matched route"
    method = "get" if request.method == "HEAD" else request.method.lower()
    return _CONVERTER.sub("}", route.path), method


@dataclass(frozen=True)
class Operation:
    """How to check one operation's request: body (None when it takes none), path and query
    parameters, and each header parameter with its validator, by lower-case name."""

    body: Checker | None
    body_required: bool
    path: Checker
    query: Checker
    headers: dict[str, tuple[J, jsonschema_rs.Validator]]


def _parameters(params: list[J], where: str) -> Checker:
    chosen = [p for p in params if p["in"] == where]
    schema: J = {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in chosen},
        "required": [p["name"] for p in chosen if p.get("required")],
    }
    return Checker.of(schema, where)


@functools.cache
def _checkers(path: str, method: str) -> Operation:
    op: J = openapi_document()["paths"][path][method]
    body: J | None = op.get("requestBody")
    params: list[J] = op.get("parameters", [])
    return Operation(
        body=Checker.of(body["content"]["application/json"]["schema"], "body") if body else None,
        body_required=bool(body and body.get("required")),
        path=_parameters(params, "path"),
        query=_parameters(params, "query"),
        headers={
            p["name"].lower(): (p, _compiled(p["schema"])) for p in params if p["in"] == "header"
        },
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it exceeds `limit` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Fields:
    """The body, checked against the operation's request body schema; an empty body only where
    the document says the body is optional."""
    op = _checkers(*_operation(request))
    checker = op.body
    raw = await read_body(request, limit)
    if checker is None:
        return Fields({}, {})
    if not raw.strip():
        if op.body_required:
            raise validation("a JSON object body is required")
        return Fields({}, checker.properties())
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise unsupported_media_type()
    try:
        doc = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from exc
    return checker.check(doc)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def query_fields(request: Request) -> Fields:
    """The query parameters, checked against the operation's; integers are read from digits."""
    checker = _checkers(*_operation(request)).query
    doc: J = {}
    for name, value in request.query_params.items():
        spec = checker.properties().get(name, {})
        doc[name] = (
            int(value) if spec.get("type") == "integer" and _INTEGER.fullmatch(value) else value
        )
    return checker.check(doc)


def path_fields(request: Request) -> Fields:
    """The path parameters, checked against the operation's (converters have typed some)."""
    params = {k: str(v) for k, v in request.path_params.items()}
    return _checkers(*_operation(request)).path.check(params)


def header(request: Request, name: str) -> str | None:
    """A header parameter of the operation: None when absent (a 422 naming it when required), a
    400 when it does not match its schema."""
    spec, validator = _checkers(*_operation(request)).headers[name.lower()]
    value = request.headers.get(name)
    if value is None:
        if spec.get("required"):
            raise validation(
                f"header {name} is required",
                [{"field": name, "in": "header", "message": "is required"}],
            )
        return None
    if not validator.is_valid(value):
        expected = spec.get("description") or "see /openapi.json"
        raise bad_request(f"header {name} is malformed; expected {expected}")
    return value


class Fields:
    """Typed values of a checked JSON object; an absent member is its schema's default or None."""

    def __init__(self, doc: Any, properties: J) -> None:
        self.doc: J = doc if isinstance(doc, dict) else {}
        self.properties = properties

    def _get(self, name: str) -> Any:
        value = self.doc.get(name)
        if value is None:
            return self.properties.get(name, {}).get("default")
        return value

    def raw(self, name: str) -> Any:
        return self._get(name)

    def text(self, name: str) -> str | None:
        value = self._get(name)
        return None if value is None else str(value)

    def req_text(self, name: str) -> str:
        return str(self._required(name))

    def uuid(self, name: str) -> UUID | None:
        value = self._get(name)
        return None if value is None else UUID(value)

    def req_uuid(self, name: str) -> UUID:
        return UUID(self._required(name))

    def timestamp(self, name: str) -> datetime | None:
        """An instant, or a naive wall-clock time where the schema allows one."""
        value = self._get(name)
        return None if value is None else parse_time(value)

    def req_timestamp(self, name: str) -> datetime:
        return parse_time(self._required(name))

    def day(self, name: str) -> date | None:
        value = self._get(name)
        return None if value is None else parse_day(value)

    def integer(self, name: str) -> int | None:
        value = self._get(name)
        return None if value is None else int(value)  # the schema allows 42.0 as the integer 42

    def req_integer(self, name: str) -> int:
        return int(self._required(name))

    def obj(self, name: str) -> dict[str, Any] | None:
        value = self._get(name)
        return None if value is None else dict(value)

    def string_list(self, name: str) -> list[str]:
        value = self._get(name)
        return [] if value is None else [str(v) for v in value]

    def _required(self, name: str) -> Any:
        value = self._get(name)
        assert value is not None, f"the schema does not require {name}"
        return value
