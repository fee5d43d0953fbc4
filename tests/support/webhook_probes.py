"""Requests that reach the documented answers of the webhook routes (tests/test_http_answers.py):
endpoints of their own at the session salon, registered switched off (the worker leaves them
alone), at a public address literal (the address check passes without DNS)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from tests.fixtures import session_database

J = dict[str, Any]
URL = "https://93.184.215.14/hooks/probe"  # a global address: allowed, and never called
Probe = Callable[[Any], httpx.Response]  # the argument is test_http_answers.Ctx

WELL_FORMED: dict[tuple[str, str], J] = {
    ("POST", "/v1/locations/{id}/webhooks"): {"json": {"url": URL, "active": False}},
    ("PATCH", "/v1/webhooks/{id}"): {"json": {"description": "probe"}},
    ("POST", "/v1/webhooks/{id}/rotate"): {"json": {}},
    ("POST", "/v1/webhooks/{id}/redeliver"): {"json": {"from_event_id": 1}},
}


def _endpoint(c: Any) -> J:
    r = c.call(
        "POST", f"/v1/locations/{c.cat.location_id}/webhooks", json={"url": URL, "active": False}
    )
    assert r.status_code == 201, r.text
    made: J = r.json()
    return made


def _on_endpoint(c: Any, method: str, action: str = "", **kwargs: Any) -> httpx.Response:
    made = _endpoint(c)
    response: httpx.Response = c.call(method, f"/v1/webhooks/{made['id']}{action}", **kwargs)
    return response


def _redeliver(c: Any) -> httpx.Response:
    made = _endpoint(c)
    with psycopg.connect(session_database().url, autocommit=True) as conn:
        conn.execute(
            "insert into booking.webhook_deliveries (location_id, endpoint_id, event_id,"
            " message_id, event_type, payload, status) values (%s, %s, 7, 'msg_7',"
            " 'booking:confirmed', '{}', 'dead')",
            (made["location_id"], made["id"]),
        )
    response: httpx.Response = c.call(
        "POST", f"/v1/webhooks/{made['id']}/redeliver", json={"from_event_id": 7}
    )
    return response


PROBES: dict[tuple[str, str, int], Probe] = {
    ("POST", "/v1/locations/{id}/webhooks", 201): lambda c: c.call(
        "POST", f"/v1/locations/{c.cat.location_id}/webhooks", json={"url": URL, "active": False}
    ),
    ("POST", "/v1/locations/{id}/webhooks", 422): lambda c: c.call(
        "POST",
        f"/v1/locations/{c.cat.location_id}/webhooks",
        json={"url": "http://169.254.169.254/latest/meta-data"},
    ),
    ("GET", "/v1/locations/{id}/webhooks", 422): lambda c: c.call(
        "GET", "/v1/locations/not-a-uuid/webhooks"
    ),
    ("GET", "/v1/webhooks/{id}", 200): lambda c: _on_endpoint(c, "GET"),
    ("PATCH", "/v1/webhooks/{id}", 200): lambda c: _on_endpoint(
        c, "PATCH", json={"event_types": ["booking:confirmed"]}
    ),
    ("DELETE", "/v1/webhooks/{id}", 200): lambda c: _on_endpoint(c, "DELETE"),
    ("POST", "/v1/webhooks/{id}/rotate", 200): lambda c: _on_endpoint(
        c, "POST", "/rotate", json={"grace_seconds": 60}
    ),
    ("GET", "/v1/webhooks/{id}/deliveries", 200): lambda c: _on_endpoint(c, "GET", "/deliveries"),
    ("GET", "/v1/webhooks/{id}/deliveries", 422): lambda c: c.call(
        "GET", f"/v1/webhooks/{uuid.uuid4()}/deliveries?limit=0"
    ),
    ("POST", "/v1/webhooks/{id}/redeliver", 200): _redeliver,
}
