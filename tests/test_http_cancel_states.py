"""Cancel and reschedule over HTTP check the state before If-Match.

A request that could never succeed (cancelling a hold) is a 409 invalid-state whatever If-Match
says, not a 412; a retried cancel (its first answer lost, so its If-Match names the version before
the cancel) is answered 200 with the cancelled booking, as RFC 9110 allows when the requested
state change has already been reached.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from gateway.client import BookingClient
from tests.fixtures import HttpCatalogue, next_test_day


def _conflicts_of(database_url: str, reservation_id: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select count(*) from booking.conflicts"
            " where holder_reservation_id = %s or attempted_reservation_id = %s",
            (reservation_id, reservation_id),
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_retried_cancel_with_the_old_if_match_is_200_and_changes_nothing(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str], database_url: str
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("retrying-canceller")) as c:
        booked = await c.create_booking(http_catalogue.solo_service_id, http_catalogue.at(day, 9))
        assert booked.status_code == 201, booked.text
        booking = booked.json()
        first = await c.cancel_booking(booking["booking_id"], version=booking["version"])
        assert first.status_code == 200 and first.json()["status"] == "cancelled"
        retried = await c.cancel_booking(
            booking["booking_id"], version=booking["version"], reason="second try"
        )
        assert retried.status_code == 200, retried.text
        assert retried.json()["status"] == "cancelled"
        assert retried.json()["version"] == first.json()["version"], "nothing changed"
        assert retried.headers["ETag"] == f'"{first.json()["version"]}"'
    assert _conflicts_of(database_url, booking["booking_id"]) == 0, "no conflict is recorded"


async def test_cancelling_a_hold_with_a_stale_if_match_is_409_invalid_state_not_412(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str], database_url: str
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("hold-canceller")) as c:
        held = await c.create_hold(http_catalogue.solo_service_id, http_catalogue.at(day, 11))
        assert held.status_code == 201, held.text
        hold_id = held.json()["hold_id"]
        r = await c.cancel_booking(hold_id, version=99)
        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "BK010"
        moved = await c.reschedule_booking(hold_id, http_catalogue.at(day, 13), version=99)
        assert moved.status_code == 409 and moved.json()["code"] == "BK010", moved.text
    assert _conflicts_of(database_url, hold_id) == 0, "no conflict is recorded"
