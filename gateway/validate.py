"""Request shape checks: the JSON body (size-capped) and typed fields from it or the query.

Only the shape of a request is checked here (types, formats, lengths). Whether a time can be
booked is the database's business.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from starlette.requests import Request

from gateway.problems import bad_request, too_large, unsupported_media_type, validation

DEFAULT_BODY_LIMIT = 64 * 1024
# dates outside these years are refused as malformed (they also overflow Python's date type)
MIN_YEAR = 1900
MAX_YEAR = 9000


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


async def read_json(request: Request, limit: int, *, optional: bool = False) -> Fields:
    """The body as a JSON object; empty allowed when `optional`."""
    raw = await read_body(request, limit)
    if not raw.strip():
        if optional:
            return Fields({})
        raise validation("a JSON object body is required")
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise unsupported_media_type()
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise validation("the body must be a JSON object")
    return Fields(doc)


T = TypeVar("T")


class Fields:
    """Typed access to a JSON object's members; a wrong member is a 422 naming it."""

    def __init__(self, doc: dict[str, Any], where: str = "body") -> None:
        self.doc = doc
        self.where = where

    def _fail(self, name: str, message: str) -> Exception:
        return validation(
            f"{self.where} field '{name}' {message}",
            [{"field": name, "in": self.where, "message": message}],
        )

    def raw(self, name: str) -> Any:
        return self.doc.get(name)

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str | None:
        value = self.doc.get(name)
        if value is None:
            if required:
                raise self._fail(name, "is required")
            return None
        if not isinstance(value, str) or not value or len(value) > max_length or "\x00" in value:
            raise self._fail(name, f"must be a non-empty string of at most {max_length} characters")
        return value

    def req_text(self, name: str, max_length: int = 200) -> str:
        value = self.text(name, required=True, max_length=max_length)
        assert value is not None
        return value

    def uuid(self, name: str, *, required: bool = False) -> UUID | None:
        value = self.doc.get(name)
        if value is None:
            if required:
                raise self._fail(name, "is required")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return UUID(value)
        except ValueError as exc:
            raise self._fail(name, "must be a UUID") from exc

    def req_uuid(self, name: str) -> UUID:
        value = self.uuid(name, required=True)
        assert value is not None
        return value

    def _parsed(
        self, name: str, required: bool, parse: Callable[[str], T], expected: str
    ) -> T | None:
        """The field parsed by `parse`, None when absent; a 422 naming `expected` when malformed."""
        value = self.doc.get(name)
        if value is None:
            if required:
                raise self._fail(name, "is required")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return parse(value)
        except ValueError as exc:
            raise self._fail(name, f"must be {expected}") from exc

    def _in_range(self, name: str, year: int) -> None:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise self._fail(name, "is out of range")

    def timestamp(self, name: str, *, required: bool = False) -> datetime | None:
        parsed = self._parsed(
            name, required, datetime.fromisoformat, "an ISO 8601 date-time with an offset"
        )
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            raise self._fail(name, "must carry a UTC offset (e.g. Z or +02:00)")
        self._in_range(name, parsed.year)
        return parsed

    def req_timestamp(self, name: str) -> datetime:
        value = self.timestamp(name, required=True)
        assert value is not None
        return value

    def day(self, name: str, *, required: bool = False) -> date | None:
        parsed = self._parsed(name, required, date.fromisoformat, "a date (YYYY-MM-DD)")
        if parsed is not None:
            self._in_range(name, parsed.year)
        return parsed

    def integer(
        self, name: str, *, default: int | None = None, minimum: int = 0, maximum: int = 2**62
    ) -> int | None:
        value = self.doc.get(name)
        if value is None:
            return default
        if isinstance(value, str) and self.where == "query":
            try:
                value = int(value)
            except ValueError:
                raise self._fail(name, "must be an integer") from None
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
            raise self._fail(name, f"must be an integer between {minimum} and {maximum}")
        return value

    def obj(self, name: str) -> dict[str, Any] | None:
        value = self.doc.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._fail(name, "must be a JSON object")
        return value

    def string_list(self, name: str, *, max_items: int = 100) -> list[str]:
        value = self.doc.get(name)
        if value is None:
            return []
        if (
            not isinstance(value, list)
            or len(value) > max_items
            or not all(isinstance(v, str) and 0 < len(v) <= 200 and "\x00" not in v for v in value)
        ):
            raise self._fail(name, f"must be a list of at most {max_items} non-empty strings")
        return value


def query_fields(request: Request) -> Fields:
    return Fields(dict(request.query_params), "query")
