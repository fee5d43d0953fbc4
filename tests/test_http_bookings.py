"""Bookings over HTTP: convert and release holds, direct idempotent bookings, reading, listing,
cancelling and rescheduling with If-Match, and who may touch whose booking."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from gateway.client import BookingClient
from tests.fixtures import HttpCatalogue, next_test_day

PROBLEM = "application/problem+json"


def _rows(database_url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, args).fetchall()


async def test_hold_then_convert_keeps_the_id_and_a_foreign_session_is_403(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("converter")) as c:
        hold = (
            await c.create_hold(
                http_catalogue.service_id,
                http_catalogue.at(day, 10),
                http_catalogue.at(day, 11),
                session_id="sess-1",
            )
        ).json()
        wrong = await c.convert_hold(hold["hold_id"], "another-session")
        assert wrong.status_code == 403 and wrong.json()["code"] == "BK009"
        r = await c.convert_hold(hold["hold_id"], "sess-1", {"note": "first visit"})
        assert r.status_code == 201, r.text
        assert r.json()["booking_id"] == hold["hold_id"]
        assert r.json()["status"] == "confirmed"
        again = await c.release_hold(hold["hold_id"], "sess-1")
        assert again.status_code == 409 and again.json()["code"] == "BK010"


async def test_a_released_hold_frees_the_slot_and_cannot_be_converted(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    start, end = http_catalogue.at(day, 14), http_catalogue.at(day, 15)
    async with BookingClient(gateway_url, mint("releaser")) as c:
        hold = (await c.create_hold(http_catalogue.solo_service_id, start, end)).json()
        r = await c.release_hold(hold["hold_id"], hold["session_id"])
        assert r.status_code == 200 and r.json()["status"] == "released"
        r = await c.convert_hold(hold["hold_id"], hold["session_id"])
        assert r.status_code == 409 and r.json()["code"] == "BK010"
        unknown = await c.release_hold(uuid.uuid4(), "x")
        assert unknown.status_code == 404 and unknown.json()["code"] == "BK008"
        other = c.with_token(mint("someone-else"))
        r = await other.create_hold(http_catalogue.solo_service_id, start, end)
        assert r.status_code == 201


async def test_direct_booking_conflict_is_409_with_alternatives(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("direct-1")) as c:
        first = await c.create_booking(http_catalogue.solo_service_id, http_catalogue.at(day, 9))
        assert first.status_code == 201
        assert first.headers["etag"] == f'"{first.json()["version"]}"'
        second = await c.with_token(mint("direct-2")).create_booking(
            http_catalogue.solo_service_id, http_catalogue.at(day, 9)
        )
    assert second.status_code == 409 and second.headers["content-type"] == PROBLEM
    body = second.json()
    assert body["conflict_type"] == "BOOKING_CONFLICT"
    assert body["type"].endswith("/booking-conflict")
    assert body["alternatives"] and all("start_time" in a for a in body["alternatives"])


async def test_twenty_identical_idempotent_requests_make_one_booking_and_identical_answers(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str], database_url: str
) -> None:
    day = next_test_day()
    key = f"idem-{uuid.uuid4()}"
    async with BookingClient(gateway_url, mint("idem-customer")) as c:
        responses = await asyncio.gather(
            *(
                c.create_booking(
                    http_catalogue.service_id,
                    http_catalogue.at(day, 11),
                    booking_data={"note": "x"},
                    idempotency_key=key,
                )
                for _ in range(20)
            )
        )
        assert {r.status_code for r in responses} == {201}
        assert len({r.content for r in responses}) == 1
        other = await c.create_booking(
            http_catalogue.service_id,
            http_catalogue.at(day, 12),
            booking_data={"note": "x"},
            idempotency_key=key,
        )
    assert other.status_code == 422 and other.json()["code"] == "BK011"
    rows = _rows(
        database_url, "select starts_at from booking.reservations where idempotency_key = %s", key
    )
    assert len(rows) == 1 and rows[0][0] == http_catalogue.at(day, 11)


async def test_get_and_list_own_bookings_with_etag(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("reader")) as c:
        made = (
            await c.create_booking(http_catalogue.service_id, http_catalogue.at(day, 15))
        ).json()
        r = await c.get_booking(made["booking_id"])
        assert r.status_code == 200 and r.json()["id"] == made["booking_id"]
        assert r.headers["etag"] == f'"{made["version"]}"'
        not_modified = await c.request(
            "GET",
            f"/v1/bookings/{made['booking_id']}",
            headers={"If-None-Match": r.headers["etag"]},
        )
        assert not_modified.status_code == 304
        listed = await c.list_bookings()
        assert listed.status_code == 200
        assert made["booking_id"] in [b["id"] for b in listed.json()["items"]]
        staff = c.with_token(mint("desk", "staff"))
        r = await staff.list_bookings(user_id="reader")
        assert r.status_code == 200 and len(r.json()["items"]) >= 1
        r = await c.list_bookings(user_id="desk")
        assert r.status_code == 403 and r.json()["code"] == "BK015"
        r = await c.list_bookings(limit=5000)
        assert r.status_code == 422


async def test_cancel_and_reschedule_with_if_match(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("mover")) as c:
        made = (
            await c.create_booking(http_catalogue.solo_service_id, http_catalogue.at(day, 10))
        ).json()
        v = made["version"]
        stale = await c.reschedule_booking(
            made["booking_id"], http_catalogue.at(day, 12), version=v + 7
        )
        assert stale.status_code == 412 and stale.json()["conflict_type"] == "VERSION_CONFLICT"
        assert stale.json()["current_version"] == v
        moved = await c.reschedule_booking(
            made["booking_id"], http_catalogue.at(day, 12), version=v
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["version"] == v + 1 and moved.headers["etag"] == f'"{v + 1}"'
        taken = (
            await c.with_token(mint("blocker")).create_booking(
                http_catalogue.solo_service_id, http_catalogue.at(day, 15)
            )
        ).json()
        clash = await c.reschedule_booking(made["booking_id"], http_catalogue.at(day, 15))
        assert clash.status_code == 409 and clash.json()["alternatives"]
        assert taken["success"]
        stale = await c.cancel_booking(made["booking_id"], version=v)
        assert stale.status_code == 412
        bad = await c.request(
            "POST", f"/v1/bookings/{made['booking_id']}/cancel", headers={"If-Match": "garbage"}
        )
        assert bad.status_code == 400
        done = await c.cancel_booking(made["booking_id"], version=v + 1, reason="ill")
        assert done.status_code == 200 and done.json()["status"] == "cancelled"


async def test_customer_a_cannot_read_cancel_or_reschedule_b_booking(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str], database_url: str
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("owner-b")) as b:
        made = (
            await b.create_booking(
                http_catalogue.service_id,
                http_catalogue.at(day, 10),
                booking_data={"phone": "+48 600 000 000"},
            )
        ).json()
        before = _rows(
            database_url,
            "select status, starts_at, version from booking.reservations where id = %s",
            made["booking_id"],
        )
        a = b.with_token(mint("intruder-a"))
        assert (await a.get_booking(made["booking_id"])).status_code == 404
        r = await a.cancel_booking(made["booking_id"])
        assert r.status_code == 404 and r.json()["code"] == "BK008"
        r = await a.reschedule_booking(made["booking_id"], http_catalogue.at(day, 13))
        assert r.status_code == 404
        r = await a.convert_hold(made["booking_id"], "guess")
        assert r.status_code == 404
        r = await a.list_bookings(user_id="owner-b")
        assert r.status_code == 403
        after = _rows(
            database_url,
            "select status, starts_at, version from booking.reservations where id = %s",
            made["booking_id"],
        )
        assert before == after
        staff = b.with_token(mint("front-desk", "staff"))
        r = await staff.get_booking(made["booking_id"])
        assert r.status_code == 200 and r.json()["details"]["phone"] == "+48 600 000 000"
