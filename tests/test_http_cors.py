"""A browser app on another origin may call the HTTP API when its origin is allowed
(BOOKING_CORS_ORIGINS): preflights are answered without a token or a rate-limit charge, answers
carry Access-Control-Allow-Origin and Vary: Origin; other origins get no CORS headers, and with
nothing configured the gateway sends none at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.fixtures import HttpCatalogue, running_gateway

APP = "https://salon.example"
DEV = "http://localhost:5173"


@pytest.fixture(scope="module")
def cors_gateway(database_url: str) -> Iterator[str]:
    with running_gateway(
        database_url, {"BOOKING_CORS_ORIGINS": f"{APP}, http://localhost:*", "REDIS_URL": ""}
    ) as base:
        yield base


def preflight(base: str, origin: str, method: str, headers: str) -> httpx.Response:
    return httpx.options(
        f"{base}/v1/holds",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_a_preflight_from_an_allowed_origin_is_answered_with_what_the_app_may_send(
    cors_gateway: str,
) -> None:
    answer = preflight(cors_gateway, APP, "POST", "authorization, content-type, idempotency-key")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "idempotency-key", "if-match"):
        assert header in allowed
    assert "origin" in answer.headers["vary"].lower()
    assert "access-control-allow-credentials" not in answer.headers, "tokens, not cookies"


def test_any_port_of_an_allowed_host_pattern_is_allowed(cors_gateway: str) -> None:
    answer = preflight(cors_gateway, DEV, "GET", "authorization")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == DEV


def test_a_preflight_from_another_origin_is_refused(cors_gateway: str) -> None:
    answer = preflight(cors_gateway, "https://evil.example", "POST", "authorization")
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers


def test_an_actual_request_carries_the_origin_and_exposes_the_etag(
    cors_gateway: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    answer = httpx.get(
        f"{cors_gateway}/v1/services/{http_catalogue.service_id}/availability",
        params={"date": "2031-06-02"},
        headers={"Origin": APP},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert "etag" in answer.headers["access-control-expose-headers"].lower()
    assert "origin" in answer.headers["vary"].lower()
    refused = httpx.get(
        f"{cors_gateway}/v1/bookings",
        headers={"Origin": APP, "Authorization": f"Bearer {mint('cors-reader')}"},
    )
    assert refused.headers["access-control-allow-origin"] == APP
    other = httpx.get(f"{cors_gateway}/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_without_allowed_origins_the_gateway_sends_no_cors_headers(gateway_url: str) -> None:
    answer = preflight(gateway_url, APP, "POST", "authorization")
    assert "access-control-allow-origin" not in answer.headers
    assert answer.status_code == 405
