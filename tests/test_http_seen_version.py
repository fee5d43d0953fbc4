"""seen_version over HTTP: a caller that names the availability version it chose a slot from
learns, when the slot was taken after that version, that its view was out of date (409
CACHE_CONFLICT, refresh availability) rather than merely that the slot is taken."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.fixtures import HttpCatalogue, next_test_day


def _post(base: str, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(base + path, json=body, headers={"Authorization": f"Bearer {token}"})


def _version(base: str, service_id: str, day: str) -> int:
    r = httpx.get(f"{base}/v1/services/{service_id}/availability", params={"date": day})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'W/"{r.json()["versions"][day]}"'
    return int(r.json()["versions"][day])


def test_a_hold_chosen_from_an_outdated_availability_is_a_cache_conflict(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    svc = http_catalogue.solo_service_id
    seen = _version(gateway_url, svc, day.isoformat())
    slot = {"service_id": svc, "start_time": http_catalogue.at(day, 9).isoformat()}
    first = _post(gateway_url, "/v1/holds", mint("quick"), slot)
    assert first.status_code == 201, first.text

    late = _post(gateway_url, "/v1/holds", mint("slow"), slot | {"seen_version": seen})
    assert late.status_code == 409, late.text
    assert late.json()["conflict_type"] == "CACHE_CONFLICT"
    assert late.json()["type"].endswith("/cache-conflict")
    assert late.json()["suggested_action"] == "refresh_availability"

    current = _version(gateway_url, svc, day.isoformat())
    assert current > seen
    informed = _post(gateway_url, "/v1/holds", mint("informed"), slot | {"seen_version": current})
    assert informed.status_code == 409
    assert informed.json()["conflict_type"] == "HOLD_CONFLICT"  # it saw the hold: no stale view


def test_a_direct_booking_takes_seen_version_too(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    svc = http_catalogue.solo_service_id
    seen = _version(gateway_url, svc, day.isoformat())
    slot = {"service_id": svc, "start_time": http_catalogue.at(day, 11).isoformat()}
    assert _post(gateway_url, "/v1/bookings", mint("booker-a"), slot).status_code == 201
    late = _post(gateway_url, "/v1/bookings", mint("booker-b"), slot | {"seen_version": seen})
    assert late.status_code == 409, late.text
    assert late.json()["conflict_type"] == "CACHE_CONFLICT"
