"""What a well-formed request is, over HTTP: the OpenAPI document says it and the server agrees;
a missing required part is a 422 that names it; a 405 lists every method the path serves."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs
import pytest

from tests.fixtures import HttpCatalogue, next_test_day

METHODS = ("get", "put", "post", "delete", "patch")
LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


@pytest.fixture(scope="module")
def document(gateway_url: str) -> dict[str, Any]:
    r = httpx.get(gateway_url + "/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def _is_local_date_time(text: str) -> bool:
    try:
        return bool(LOCAL.fullmatch(text)) and datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return False


def _concrete(path: str) -> str:
    return re.sub(r"{[^}]+}", lambda m: "k" if m.group() == "{key}" else str(uuid.uuid4()), path)


def _allowed_by_document(
    document: dict[str, Any], path: str, method: str, body: Any, query: dict[str, Any]
) -> bool:
    """Whether the document allows this body and query (checked with jsonschema_rs, not with the
    gateway's own code)."""
    op = document["paths"][path][method]
    params = [p for p in op.get("parameters", []) if p["in"] == "query"]
    query_schema = {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in params},
        "required": [p["name"] for p in params if p.get("required")],
    }
    parts: list[tuple[dict[str, Any], Any]] = [(query_schema, query)]
    if "requestBody" in op:
        if body is None:
            if op["requestBody"]["required"]:
                return False
        else:
            parts.append((op["requestBody"]["content"]["application/json"]["schema"], body))
    formats = {"local-date-time": _is_local_date_time}
    for schema, instance in parts:
        validator = jsonschema_rs.validator_for(
            {**schema, "components": document["components"]},
            validate_formats=True,
            formats=formats,
        )
        if not validator.is_valid(instance):
            return False
    return True


# (name, method, document path, JSON body or None for no body, query, whether it is well-formed)
SHAPES: list[tuple[str, str, str, Any, dict[str, Any], bool]] = [
    ("warm with no body", "post", "/v1/cache/warm", None, {}, True),
    ("warm with days 42.0 (a JSON integer)", "post", "/v1/cache/warm", {"days": 42.0}, {}, True),
    ("warm with days 42.5", "post", "/v1/cache/warm", {"days": 42.5}, {}, False),
    (
        "invalidate with mode null",
        "post",
        "/v1/cache/invalidate",
        {"tags": ["day:2026-12-07"], "mode": None},
        {},
        False,
    ),
    ("invalidate with an unknown tag", "post", "/v1/cache/invalidate", {"tags": ["x"]}, {}, False),
    ("a lease with an empty owner", "post", "/v1/locks/{key}", {"owner": ""}, {}, False),
    ("a lease with no body", "post", "/v1/locks/{key}", None, {}, True),
    ("renewing a lease without its token", "post", "/v1/locks/{key}/renew", {}, {}, False),
    (
        "a cancel with an empty reason",
        "post",
        "/v1/bookings/{id}/cancel",
        {"reason": ""},
        {},
        False,
    ),
    ("a cancel with no body", "post", "/v1/bookings/{id}/cancel", None, {}, True),
    (
        "availability in 1899",
        "get",
        "/v1/services/{id}/availability",
        None,
        {"date": "1899-12-31"},
        False,
    ),
    (
        "availability for 62 days from 9000-12-31",
        "get",
        "/v1/services/{id}/availability",
        None,
        {"date": "9000-12-31", "days": 62},
        True,
    ),
    (
        "availability in 9001",
        "get",
        "/v1/services/{id}/availability",
        None,
        {"date": "9001-01-01"},
        False,
    ),
    (
        "a hold in 1899",
        "post",
        "/v1/holds",
        {"service_id": "{service}", "start_time": "1899-12-31T10:00:00Z"},
        {},
        False,
    ),
    (
        "a hold at a wall-clock time",
        "post",
        "/v1/holds",
        {"service_id": "{service}", "start_time": "{tomorrow}T10:00"},
        {},
        True,
    ),
    (
        "a hold on 30 February",
        "post",
        "/v1/holds",
        {"service_id": "{service}", "start_time": "2027-02-30T10:00"},
        {},
        False,
    ),
    (
        "a hold whose booking_data holds NUL",
        "post",
        "/v1/bookings",
        {
            "service_id": "{service}",
            "start_time": "2031-01-01T10:00:00Z",
            "booking_data": {"a": "\x00"},
        },
        {},
        False,
    ),
    (
        "a service lasting 45.0 minutes (a JSON integer)",
        "post",
        "/v1/locations/{id}/services",
        {"name": "Cut", "duration_minutes": 45.0},
        {},
        True,
    ),
    (
        "a service lasting an ISO 8601 duration",
        "post",
        "/v1/locations/{id}/services",
        {"name": "Cut", "duration_minutes": "PT45M"},
        {},
        False,
    ),
    (
        "working hours until 24:00",
        "put",
        "/v1/resources/{id}/hours",
        {"hours": [{"weekday": 7, "start": "18:00", "end": "24:00"}]},
        {},
        True,
    ),
    (
        "working hours from 9:00",
        "put",
        "/v1/resources/{id}/hours",
        {"hours": [{"weekday": 1, "start": "9:00", "end": "17:00"}]},
        {},
        False,
    ),
    (
        "closing a location with active null",
        "patch",
        "/v1/locations/{id}",
        {"active": None},
        {},
        False,
    ),
    (
        "a catalogue audit of 1001 changes",
        "get",
        "/v1/locations/{id}/audit",
        None,
        {"limit": 1001},
        False,
    ),
]


def _fill(value: Any, catalogue: HttpCatalogue) -> Any:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    if isinstance(value, dict):
        return {k: _fill(v, catalogue) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace("{service}", catalogue.service_id).replace("{tomorrow}", tomorrow)
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "query", "well_formed"),
    [case[1:] for case in SHAPES],
    ids=[case[0] for case in SHAPES],
)
def test_the_document_and_the_server_agree_on_what_is_well_formed(
    method: str,
    path: str,
    body: Any,
    query: dict[str, Any],
    well_formed: bool,
    document: dict[str, Any],
    gateway_url: str,
    http_catalogue: HttpCatalogue,
    mint: Callable[..., str],
) -> None:
    body, query = _fill(body, http_catalogue), _fill(query, http_catalogue)
    assert _allowed_by_document(document, path, method, body, query) is well_formed
    url = gateway_url + _concrete(path)
    if path == "/v1/services/{id}/availability":  # a service that exists
        url = f"{gateway_url}/v1/services/{http_catalogue.service_id}/availability"
    r = httpx.request(
        method.upper(),
        url,
        params=query,
        json=body,
        headers={"Authorization": f"Bearer {mint('shape-admin', 'admin')}"},
    )
    slug = r.json().get("type", "").rsplit("/", 1)[-1] if r.status_code >= 400 else ""
    refused_as_malformed = slug in ("validation-error", "bad-request", "invalid-argument")
    assert refused_as_malformed is not well_formed, r.text


def test_converting_a_hold_without_its_session_is_422_naming_session_id(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    auth = {"Authorization": f"Bearer {mint('sessionless')}"}
    hold = httpx.post(
        gateway_url + "/v1/holds",
        json={
            "service_id": http_catalogue.service_id,
            "start_time": http_catalogue.at(day, 16).isoformat(),
        },
        headers=auth,
    ).json()
    assert "hold_id" in hold, (day, hold)
    for body in ({}, {"booking_data": {"note": "x"}}, {"session_id": None}):
        r = httpx.post(f"{gateway_url}/v1/holds/{hold['hold_id']}/booking", json=body, headers=auth)
        assert r.status_code == 422, r.text
        error = r.json()["errors"][0]
        assert (error["field"], error["in"]) == ("session_id", "body")
        if "session_id" not in body:
            assert error["message"] == "is required"
    r = httpx.delete(f"{gateway_url}/v1/holds/{hold['hold_id']}", headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "X-Session-Id"
    r = httpx.post(
        f"{gateway_url}/v1/holds/{hold['hold_id']}/booking",
        json={"session_id": hold["session_id"]},
        headers=auth,
    )
    assert r.status_code == 201, r.text


def test_a_405_lists_every_method_of_the_path(gateway_url: str, document: dict[str, Any]) -> None:
    r = httpx.put(gateway_url + "/v1/bookings")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, POST"
    r = httpx.get(gateway_url + "/v1/locks/nightly")
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, POST"
    for path, ops in document["paths"].items():
        documented = {m.upper() for m in ops if m in METHODS}
        expected = documented | ({"HEAD"} if "GET" in documented else set())
        unlisted = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in documented)
        r = httpx.request(unlisted, gateway_url + _concrete(path))
        assert r.status_code == 405, (path, unlisted, r.text)
        assert set(r.headers["allow"].split(", ")) == expected, path


def test_each_operation_documents_only_answers_it_can_give(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(paths["/health"]["get"]["responses"]) == {"200", "503"}
    assert set(paths["/ready"]["get"]["responses"]) == {"200", "503"}
    assert set(paths["/metrics"]["get"]["responses"]) == {"200"}
    for path, ops in paths.items():
        for method, op in ops.items():
            if "requestBody" not in op:  # no body: never too large, never the wrong media type
                assert not {"413", "415"} & set(op["responses"]), (method, path)
