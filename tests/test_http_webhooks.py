"""Webhooks over HTTP, end to end: an admin registers an endpoint (the secret shown once), a
booking made through the API reaches a real receiver signed as Standard Webhooks says, the admin
reads the deliveries with their attempts, rotates and redelivers; location-limited tokens and
internal addresses are refused."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from testkit.receiver import Receiver
from tests.fixtures import HttpCatalogue, next_test_day, start_gateway, stop_gateway

FAST = {
    "BOOKING_WEBHOOK_POLL_SECONDS": "0.05",
    "BOOKING_WEBHOOK_BACKOFF_BASE_SECONDS": "0.05",
    "BOOKING_WEBHOOK_BACKOFF_MAX_SECONDS": "0.2",
    "BOOKING_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
}


@pytest.fixture(scope="module")
def hooked(database_url: str) -> Iterator[str]:
    """A gateway whose delivery worker runs (fast retries; 127.0.0.1 allowed)."""
    proc, base = start_gateway(database_url, FAST)
    try:
        yield base
    finally:
        stop_gateway(proc)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


def until(check: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_booking_reaches_the_receiver_signed_and_the_admin_sees_the_delivery(
    hooked: str, http_catalogue: HttpCatalogue, mint: Callable[..., str], receiver: Receiver
) -> None:
    loc = http_catalogue.location_id
    admin = {"Authorization": f"Bearer {mint('hook-admin', 'admin', locations=[loc])}"}
    r = httpx.post(
        f"{hooked}/v1/locations/{loc}/webhooks",
        headers=admin,
        json={"url": receiver.url("/e2e"), "event_types": ["booking:confirmed"]},
    )
    assert r.status_code == 201, r.text
    endpoint: dict[str, Any] = r.json()
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    assert r.headers["location"] == f"/v1/webhooks/{endpoint['id']}"
    again = httpx.get(f"{hooked}/v1/webhooks/{endpoint['id']}", headers=admin).json()
    assert "secret" not in again, "the secret is shown once"

    customer = {"Authorization": f"Bearer {mint('hook-carol')}"}
    start = http_catalogue.at(next_test_day(), 9).isoformat()
    booked = httpx.post(
        f"{hooked}/v1/bookings",
        headers=customer,
        json={"service_id": http_catalogue.solo_service_id, "start_time": start},
    )
    assert booked.status_code == 201, booked.text
    until(lambda: len(receiver.accepted("/e2e")) >= 1)
    got = receiver.accepted("/e2e")[0]
    event = Webhook(secret).verify(got.body, got.headers)
    assert event["type"] == "booking:confirmed"
    assert event["data"]["reservation_id"] == booked.json()["booking_id"]
    assert "carol" not in got.body.decode(), "no customer identity in the payload"

    def delivered() -> list[dict[str, Any]]:
        answer = httpx.get(
            f"{hooked}/v1/webhooks/{endpoint['id']}/deliveries?status=delivered", headers=admin
        ).json()
        items: list[dict[str, Any]] = answer["items"]
        return items

    until(lambda: len(delivered()) == 1)
    delivery = delivered()[0]
    assert delivery["message_id"] == got.headers["webhook-id"]
    assert delivery["attempt_log"][0]["ok"] is True

    rotated = httpx.post(f"{hooked}/v1/webhooks/{endpoint['id']}/rotate", headers=admin, json={})
    assert rotated.status_code == 200 and rotated.json()["secret"] != secret
    again_sent = httpx.post(
        f"{hooked}/v1/webhooks/{endpoint['id']}/redeliver",
        headers=admin,
        json={"from_event_id": delivery["event_id"]},
    )
    assert again_sent.json()["requeued"] == 1
    until(lambda: len(receiver.accepted("/e2e")) >= 2)
    repeat = receiver.accepted("/e2e")[1]
    assert repeat.headers["webhook-id"] == got.headers["webhook-id"]
    Webhook(secret).verify(repeat.body, repeat.headers)  # the old secret, in its grace period
    Webhook(rotated.json()["secret"]).verify(repeat.body, repeat.headers)
    httpx.delete(f"{hooked}/v1/webhooks/{endpoint['id']}", headers=admin)


def test_an_admin_of_another_location_and_staff_are_refused(
    hooked: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    loc = http_catalogue.location_id
    elsewhere = {
        "Authorization": "Bearer "
        + mint("other-admin", "admin", locations=["10000000-0000-4000-8000-0000000000ff"])
    }
    body = {"url": "https://93.184.215.14/hooks", "active": False}
    r = httpx.post(f"{hooked}/v1/locations/{loc}/webhooks", headers=elsewhere, json=body)
    assert r.status_code == 403, r.text
    staff = {"Authorization": f"Bearer {mint('stella', 'staff')}"}
    r = httpx.post(f"{hooked}/v1/locations/{loc}/webhooks", headers=staff, json=body)
    assert r.status_code == 403, r.text
    assert httpx.get(f"{hooked}/v1/locations/{loc}/webhooks", headers=staff).status_code == 403


@pytest.mark.parametrize(
    "url", ["http://10.0.0.7/hook", "http://169.254.169.254/latest", "http://localhost:8080/x"]
)
def test_internal_addresses_are_refused_at_registration(
    hooked: str, http_catalogue: HttpCatalogue, mint: Callable[..., str], url: str
) -> None:
    admin = {"Authorization": f"Bearer {mint('hook-admin', 'admin')}"}
    r = httpx.post(
        f"{hooked}/v1/locations/{http_catalogue.location_id}/webhooks",
        headers=admin,
        json={"url": url},
    )
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("webhook-url-refused")


@pytest.mark.parametrize(
    "query", ["before_event_id=9437903665408645120", "before_event_id=0", "limit=0"]
)
def test_event_ids_beyond_a_bigint_are_refused_before_the_database(
    hooked: str, mint: Callable[..., str], query: str
) -> None:
    """Schemathesis once sent a page cursor beyond 2^63 - 1: the database's bigint overflow (22003)
    came back as a 500. The request is malformed, so it is a 422 and reaches no SQL."""
    admin = {"Authorization": f"Bearer {mint('hook-admin', 'admin')}"}
    r = httpx.get(f"{hooked}/v1/webhooks/{uuid.uuid4()}/deliveries?{query}", headers=admin)
    assert r.status_code == 422, r.text
