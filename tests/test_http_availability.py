"""Availability over HTTP: public, ETag from the availability version, 304, cache that never
serves a slot the database has given away."""

from __future__ import annotations

from collections.abc import Callable

from gateway.client import BookingClient
from tests.fixtures import HttpCatalogue, next_test_day


async def test_availability_is_public_with_a_version_etag_and_304(
    gateway_url: str, http_catalogue: HttpCatalogue
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url) as c:
        r = await c.availability(http_catalogue.service_id, day)
        assert r.status_code == 200, r.text
        body = r.json()
        version = body["versions"][day.isoformat()]
        assert r.headers["etag"] == f'W/"{version}"'
        assert len(body["slots"]) == 12  # 08:00 .. 19:00, hourly
        first = body["slots"][0]
        assert first["start_time"].startswith(f"{day.isoformat()}T08:00")
        assert first["resource_ids"] == [http_catalogue.resource_a, http_catalogue.resource_b]
        again = await c.availability(
            http_catalogue.service_id, day, if_none_match=r.headers["etag"]
        )
        assert again.status_code == 304 and again.headers["etag"] == r.headers["etag"]


async def test_a_hold_changes_the_etag_and_removes_the_slot_at_once(
    redis_gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    async with BookingClient(redis_gateway_url) as c:
        before = await c.availability(http_catalogue.solo_service_id, day)
        cached = await c.availability(http_catalogue.solo_service_id, day)
        assert cached.json() == before.json()
        hold = await c.with_token(mint("watcher")).create_hold(
            http_catalogue.solo_service_id, http_catalogue.at(day, 10), http_catalogue.at(day, 11)
        )
        assert hold.status_code == 201
        after = await c.availability(
            http_catalogue.solo_service_id, day, if_none_match=before.headers["etag"]
        )
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        starts = [s["start_time"] for s in after.json()["slots"]]
        assert not any(s.startswith(f"{day.isoformat()}T10:00") for s in starts)
        assert len(starts) == len(before.json()["slots"]) - 1
        metrics = (await c.request("GET", "/metrics")).text
    # the second read was served from cache: the whole answer as encoded bytes (or, when the
    # listener had not yet caught up after the gateway started, the day's slots in process)
    assert (
        'booking_cache_requests_total{result="hit_answer"}' in metrics
        or 'booking_cache_requests_total{result="hit_local"}' in metrics
    )


async def test_several_days_and_a_resource_filter(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    next_test_day()
    async with BookingClient(gateway_url) as c:
        r = await c.availability(http_catalogue.service_id, day, days=2)
        assert r.status_code == 200
        assert len(r.json()["versions"]) == 2 and len(r.json()["slots"]) == 24
        assert r.headers["etag"].startswith('W/"m')
        same = await c.availability(
            http_catalogue.service_id, day, days=2, if_none_match=r.headers["etag"]
        )
        assert same.status_code == 304
        booked = await c.with_token(mint("filter")).create_booking(
            http_catalogue.service_id,
            http_catalogue.at(day, 9),
            resource_id=http_catalogue.resource_b,
        )
        assert booked.status_code == 201
        only_b = await c.availability(
            http_catalogue.service_id, day, resource_id=http_catalogue.resource_b
        )
        starts = [s["start_time"][11:16] for s in only_b.json()["slots"]]
        assert "09:00" not in starts and len(starts) == 11
        both = await c.availability(http_catalogue.service_id, day)
        nine = next(s for s in both.json()["slots"] if s["start_time"][11:16] == "09:00")
        assert nine["resource_ids"] == [http_catalogue.resource_a]


async def test_availability_errors(gateway_url: str, http_catalogue: HttpCatalogue) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url) as c:
        r = await c.availability("00000000-0000-4000-8000-00000000dead", day)
        assert r.status_code == 404 and r.json()["code"] == "BK001"
        r = await c.availability(http_catalogue.inactive_service_id, day)
        assert r.status_code == 422 and r.json()["code"] == "BK002"
        r = await c.availability(http_catalogue.service_id, day, days=63)
        assert r.status_code == 422
        r = await c.request("GET", f"/v1/services/{http_catalogue.service_id}/availability")
        assert r.status_code == 422
        r = await c.request(
            "GET",
            f"/v1/services/{http_catalogue.service_id}/availability",
            params={"date": "tomorrow"},
        )
        assert r.status_code == 422
        r = await c.request(
            "GET", "/v1/services/not-a-uuid/availability", params={"date": day.isoformat()}
        )
        assert r.status_code == 404
