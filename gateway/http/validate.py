"""Request checks against the OpenAPI document: a request's body, query and headers must be what
its operation in the document (generated from the route specs by gateway/http/openapi.py)
describes, and nothing else decides. The same document is served at /openapi.json, so the document
and the server cannot disagree on what is well-formed.

Only the shape of a request is checked here (types, formats, lengths, ranges), by jsonschema-rs
against the document; a checked part is then read into the operation's typed model (msgspec),
which the schema was generated from. Whether a time can be booked is the database's business.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import jsonschema_rs
import msgspec
from msgspec import UNSET, UnsetType
from starlette.requests import Request

from gateway.http.fields import LOCAL_DATE_TIME, NO_NUL, YEARS
from gateway.http.problems import bad_request, too_large, unsupported_media_type, validation
from gateway.http.spec import SpecRoute

DEFAULT_BODY_LIMIT = 64 * 1024
DRAFT = "https://json-schema.org/draft/2020-12/schema"  # the dialect of OpenAPI 3.1

J = dict[str, Any]
T = TypeVar("T")

# RFC 3339 date-time (offset required) and the same wall-clock time without an offset, whose
# seconds may be left out as an HTML datetime-local input leaves them out
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRACTION = re.compile(r"(\.\d{6})\d+")  # Python keeps microseconds; finer digits are dropped
_INTEGER = re.compile(r"-?[0-9]{1,19}")


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


# What each string format means here: exactly what the parse functions above can read.
FORMATS = {
    "date-time": _parses(parse_instant),
    LOCAL_DATE_TIME: _parses(parse_local),
    "date": _parses(parse_day),
}


@dataclass(frozen=True)
class Checker:
    """One part of an operation (body, path or query) as a compiled JSON Schema."""

    validator: jsonschema_rs.Validator
    where: str
    integers: frozenset[str] = frozenset()  # query parameters read from digits

    def check(self, doc: Any) -> Any:
        try:
            errors = [_explain(e, self.where) for e in self.validator.iter_errors(doc)]
        except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800") is not text
            raise bad_request(f"the {self.where} holds text that is not valid Unicode") from exc
        if errors:
            raise validation(
                f"{self.where} field '{errors[0]['field']}' {errors[0]['message']}", errors
            )
        return doc


def _compiled(schema: J, document: J) -> jsonschema_rs.Validator:
    """A validator for a schema of the document, its references resolved in the document."""
    whole = {"$schema": DRAFT, **schema, "components": document["components"]}
    return jsonschema_rs.validator_for(whole, formats=FORMATS, validate_formats=True)


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


@dataclass(frozen=True)
class Operation:
    """How to check one operation's request: body (None when it takes none), path and query
    parameters, and each header parameter with its validator, by lower-case name."""

    body: Checker | None
    body_ref: str | None  # the body's component, named after its model
    body_required: bool
    path: Checker
    query: Checker
    headers: dict[str, tuple[J, jsonschema_rs.Validator]]


def _parameters(params: list[J], where: str, document: J) -> Checker:
    chosen = [p for p in params if p["in"] == where]
    schema: J = {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in chosen},
        "required": [p["name"] for p in chosen if p.get("required")],
    }
    integers = frozenset(p["name"] for p in chosen if p["schema"].get("type") == "integer")
    return Checker(_compiled(schema, document), where, integers)


def _route(request: Request) -> SpecRoute:
    route = request.scope.get("route")
    assert isinstance(route, SpecRoute), "validation runs inside a matched route"
    return route


def _operation(request: Request) -> Operation:
    """The matched operation's checks, compiled from the document on first use."""
    route = _route(request)
    if route.checks is None:
        route.checks = _compile(route)
    checks: Operation = route.checks
    return checks


def _compile(route: SpecRoute) -> Operation:
    document = route.document
    op: J = document["paths"][route.spec.path_template][route.spec.method.lower()]
    body: J | None = op.get("requestBody")
    params: list[J] = op.get("parameters", [])
    body_schema: J | None = body["content"]["application/json"]["schema"] if body else None
    return Operation(
        body=Checker(_compiled(body_schema, document), "body") if body_schema else None,
        body_ref=body_schema["$ref"].rsplit("/", 1)[1] if body_schema else None,
        body_required=bool(body and body.get("required")),
        path=_parameters(params, "path", document),
        query=_parameters(params, "query", document),
        headers={
            p["name"].lower(): (p, _compiled(p["schema"], document))
            for p in params
            if p["in"] == "header"
        },
    )


def served_document(request: Request) -> J:
    """The OpenAPI document the matched route is described in (the one /openapi.json serves)."""
    return _route(request).document


def _typed(doc: Any, model: type[T]) -> T:
    """A checked part as its model. The schema it passed was generated from the model, so this
    cannot fail for a well-formed request; lax conversion reads the integer 42.0 as 42."""
    return msgspec.convert(doc, model, strict=False)


def given(value: T | UnsetType) -> T | None:
    """A member the request gave, or None where it left the member out."""
    return None if value is UNSET else value


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


async def body_of(request: Request, model: type[T], limit: int) -> T:
    """The body, checked against the operation's request body schema, as `model`; an empty body
    only where the document says the body is optional (then every member takes its default)."""
    op = _operation(request)
    assert op.body is not None and op.body_ref == model.__name__, (op.body_ref, model)
    raw = await read_body(request, limit)
    if not raw.strip():
        if op.body_required:
            raise validation("a JSON object body is required")
        return _typed({}, model)
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise unsupported_media_type()
    try:
        doc = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from exc
    return _typed(op.body.check(doc), model)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def query_of(request: Request, model: type[T]) -> T:
    """The query parameters, checked against the operation's, as `model`; integers are read from
    digits."""
    checker = _operation(request).query
    doc: J = {}
    for name, value in request.query_params.items():
        doc[name] = int(value) if name in checker.integers and _INTEGER.fullmatch(value) else value
    return _typed(checker.check(doc), model)


def path_of(request: Request, model: type[T]) -> T:
    """The path parameters, checked against the operation's (converters have typed some)."""
    params = {k: str(v) for k, v in request.path_params.items()}
    return _typed(_operation(request).path.check(params), model)


def header(request: Request, name: str) -> str | None:
    """A header parameter of the operation: None when absent (a 422 naming it when required), a
    400 when it does not match its schema."""
    spec, validator = _operation(request).headers[name.lower()]
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
