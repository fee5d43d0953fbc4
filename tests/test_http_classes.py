"""Classes over HTTP: `seats` on holds and bookings, `seats` in their answers, `seats_left` in
availability, the seats limit as a 422 problem, and a class filled by a crowd at one moment."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

import psycopg
import pytest

from gateway.client import BookingClient
from tests.fixtures import next_test_day
from tests.support.rows import first_value

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Studio:
    """A UTC studio open 06:00-22:00: a yoga room of 6 mats holding "Yoga" (60 minutes, hourly,
    at most 3 seats per booking)."""

    location_id: str
    room_id: str
    yoga_id: str

    def at(self, day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def studio(database_url: str) -> Iterator[Studio]:
    with psycopg.connect(database_url) as conn:
        one = partial(first_value, conn)

        loc = one(
            "insert into booking.locations (name, time_zone, max_live_holds_per_customer)"
            " values ('HTTP yoga studio', 'UTC', 10) returning id"
        )
        room = one(
            "insert into booking.resources (location_id, kind, name, capacity)"
            " values (%s, 'room', 'Yoga room', 6) returning id",
            loc,
        )
        yoga = one(
            "insert into booking.services (location_id, name, duration, slot_step, min_notice,"
            " max_advance, max_seats) values (%s, 'Yoga', '1 hour', '1 hour', '0', '400 days', 3)"
            " returning id",
            loc,
        )
        conn.execute(
            "insert into booking.service_resources (location_id, service_id, resource_id,"
            " preference) values (%s, %s, %s, 1)",
            (loc, yoga, room),
        )
        conn.execute(
            "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
            " select %s, %s, d, booking.timerange('06:00', '22:00') from generate_series(1, 7) d",
            (loc, room),
        )
    yield Studio(loc, room, yoga)


def seats_left(body: dict[str, object], start: datetime) -> int | None:
    slots = body["slots"]
    assert isinstance(slots, list)
    for slot in slots:
        if datetime.fromisoformat(slot["start_time"]) == start:
            return int(slot["seats_left"])
    return None


async def test_availability_counts_the_seats_left_of_a_session(
    gateway_url: str, studio: Studio, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    start = studio.at(day, 10)
    async with BookingClient(gateway_url, mint("yogi-1")) as c:
        before = await c.availability(studio.yoga_id, day)
        assert before.status_code == 200, before.text
        assert seats_left(before.json(), start) == 6
        held = await c.create_hold(studio.yoga_id, start, seats=2)
        assert held.status_code == 201, held.text
        # the hold's event changes the day's version, so the cached answer is not served again
        for _ in range(50):
            after = await c.availability(studio.yoga_id, day)
            if seats_left(after.json(), start) == 4:
                break
            await asyncio.sleep(0.05)
    assert seats_left(after.json(), start) == 4
    assert seats_left(after.json(), studio.at(day, 11)) == 6


async def test_a_hold_of_several_seats_says_so_and_converts_into_a_booking_of_as_many(
    gateway_url: str, studio: Studio, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("yogi-2")) as c:
        held = await c.create_hold(studio.yoga_id, studio.at(day, 9), seats=3)
        assert held.status_code == 201, held.text
        hold = held.json()
        assert hold["seats"] == 3 and hold["resource_id"] == studio.room_id
        seen = await c.get_booking(hold["hold_id"])
        assert seen.json()["seats"] == 3
        booked = await c.convert_hold(hold["hold_id"], hold["session_id"])
        assert booked.status_code == 201, booked.text
        assert booked.json()["seats"] == 3 and booked.json()["status"] == "confirmed"
        one = await c.create_booking(studio.yoga_id, studio.at(day, 9))
        assert one.status_code == 201, one.text
        assert one.json()["seats"] == 1, "without seats, one seat"


async def test_more_seats_than_the_service_allows_is_a_422_problem(
    gateway_url: str, studio: Studio, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    async with BookingClient(gateway_url, mint("yogi-3")) as c:
        too_many = await c.create_booking(studio.yoga_id, studio.at(day, 12), seats=4)
        zero = await c.create_hold(studio.yoga_id, studio.at(day, 12), seats=0)
    assert too_many.status_code == 422, too_many.text
    assert too_many.headers["content-type"] == PROBLEM
    assert too_many.json()["type"].endswith("/invalid-seats")
    assert zero.status_code == 422, zero.text  # refused by the request schema (seats >= 1)


async def test_a_crowd_fills_a_class_exactly_and_the_rest_are_told_at_once(
    gateway_url: str, studio: Studio, mint: Callable[..., str], database_url: str
) -> None:
    """60 customers ask for one seat of a 6-seat session at the same moment: 6 get one, 54 get
    409 with alternatives that are not this session."""
    day = next_test_day()
    start = studio.at(day, 18)
    async with BookingClient(gateway_url, None, timeout=60) as base:
        clients = [base.with_token(mint(f"crowd-{i}")) for i in range(60)]
        responses = await asyncio.gather(*(c.create_hold(studio.yoga_id, start) for c in clients))
    assert Counter(r.status_code for r in responses) == {201: 6, 409: 54}
    for r in responses:
        if r.status_code == 409:
            alternatives = r.json()["alternatives"]
            assert alternatives
            assert all(datetime.fromisoformat(a["start_time"]) != start for a in alternatives)
    with psycopg.connect(database_url) as conn:
        seats = conn.execute(
            "select array_agg(u.seat order by u.seat) from booking.units u"
            " join booking.reservations r on r.id = u.reservation_id"
            " where r.service_id = %s and r.starts_at = %s and u.status = 'held'",
            (studio.yoga_id, start),
        ).fetchone()
    assert seats == ([1, 2, 3, 4, 5, 6],)
