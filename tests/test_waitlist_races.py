"""Waiting lists under races, with real connections (one per racer) against a throwaway
PostgreSQL: every freed unit is offered exactly once, in line order, nobody holds two offers at
once, no entry waits while its time is free, and the units stay in step (tests/support/overlaps.py).

A transaction that PostgreSQL aborts as a deadlock (40P01) is retried, as the gateway retries it;
each test reports how many retries it needed."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, time
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection

from testkit.catalogue import Catalogue, seed_catalogue
from testkit.throwaway_postgres import ThrowawayPostgres
from tests.support.overlaps import overlapping_live_pairs
from tests.support.racing import race

DAY = date(2031, 9, 10)
RETRIES = 10


@pytest.fixture(scope="module")
def big_url(big_server: ThrowawayPostgres) -> str:
    return big_server.url("booking")


def as_json(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = value if isinstance(value, dict) else json.loads(value)
    return result


def seed_class(url: str, name: str, seats: int) -> Catalogue:
    """One room with `seats` seats and a 60-minute class held there (up to two seats a booking)."""
    with psycopg.connect(url) as conn:
        cat = seed_catalogue(conn, name=name, resources=1, max_live_holds_per_customer=5)
        conn.execute("update booking.resources set capacity = %s where id = %s",
                     (seats, cat.resource_ids[0]))  # fmt: skip
        conn.execute("update booking.services set max_seats = 2 where id = %s", (cat.service_id,))
        conn.commit()
    return cat


def one(conn: psycopg.Connection[Any], query: str, *args: object) -> Any:
    row = conn.execute(query, args).fetchone()
    assert row is not None
    return row[0]


def book(conn: psycopg.Connection[Any], cat: Catalogue, start: datetime, subject: str) -> str:
    result = as_json(
        one(
            conn,
            "select api.create_booking_atomic(%s, %s, %s, '{}')",
            cat.service_id,
            start,
            subject,
        )
    )
    return str(result["booking_id"])


def hold(conn: psycopg.Connection[Any], cat: Catalogue, start: datetime, subject: str) -> str:
    result = as_json(
        one(
            conn,
            "select api.create_hold_atomic(null, %s, %s, %s, null, null, 's')",
            subject,
            cat.service_id,
            start,
        )
    )
    return str(result["hold_id"])


def join_in_order(url: str, cat: Catalogue, start: datetime, subjects: list[str]) -> list[str]:
    """Each subject joins the waiting list in its own transaction, in list order: the line."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [
            as_json(one(conn, "select api.join_waitlist(%s, %s, %s)", s, cat.service_id, start))[
                "entry_id"
            ]
            for s in subjects
        ]


class Retried:
    """Runs one statement on a racer's connection, retrying deadlocks as the gateway does."""

    def __init__(self) -> None:
        self.deadlocks = 0

    async def call(self, conn: AsyncConnection[Any], query: str, *args: object) -> Any:
        for attempt in range(RETRIES):
            try:
                cur = await conn.execute(query, args)
                row = await cur.fetchone()
                assert row is not None
                return row[0]
            except psycopg.errors.DeadlockDetected:
                self.deadlocks += 1
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")


def entry_states(conn: psycopg.Connection[Any], entry_ids: list[str]) -> dict[str, str]:
    rows = conn.execute(
        "select id::text, status from booking.waitlist_entries where id = any(%s::uuid[])",
        (entry_ids,),
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def live_offers_per_entry(conn: psycopg.Connection[Any], location: uuid.UUID) -> dict[str, int]:
    """How many live holds each entry's session has (an offer: a hold of session waitlist:<id>)."""
    rows = conn.execute(
        "select substr(session_id, 10), count(*) from booking.reservations"
        " where location_id = %s and session_id like 'waitlist:%%' and status = 'held'"
        " group by 1",
        (location,),
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def offered_events(conn: psycopg.Connection[Any], location: uuid.UUID) -> list[str]:
    rows = conn.execute(
        "select payload->>'entry_id' from booking.events"
        " where location_id = %s and type = 'waitlist:offered' order by id",
        (location,),
    ).fetchall()
    return [r[0] for r in rows]


async def test_a_cancel_storm_offers_each_freed_seat_once_in_line_order(big_url: str) -> None:
    seats, waiters = 20, 30
    cat = seed_class(big_url, "Cancel storm class", seats)
    start = cat.start(DAY, time(10))
    with psycopg.connect(big_url, autocommit=True) as conn:
        bookings = [book(conn, cat, start, f"storm-booker-{i}") for i in range(seats)]
    line = join_in_order(big_url, cat, start, [f"storm-waiter-{i}" for i in range(waiters)])
    retried = Retried()

    results = await race(
        big_url,
        seats,
        lambda i, conn: retried.call(conn, "select api.cancel_booking(%s)", bookings[i]),
    )

    assert all(as_json(r)["status"] == "cancelled" for r in results)
    with psycopg.connect(big_url) as conn:
        states = entry_states(conn, line)
        assert [states[e] for e in line] == ["offered"] * seats + ["waiting"] * (waiters - seats), (
            "the first twenty in line, and only they, are offered"
        )
        assert live_offers_per_entry(conn, cat.location_id) == dict.fromkeys(line[:seats], 1), (
            "each offered waiter holds exactly one offer"
        )
        assert sorted(offered_events(conn, cat.location_id)) == sorted(line[:seats]), (
            "one waitlist:offered event per freed seat, each to another waiter"
        )
        live_seats = one(
            conn,
            "select count(*) from booking.units where location_id = %s and status in"
            " ('held', 'confirmed')",
            cat.location_id,
        )
        assert live_seats == seats, "every freed seat was taken by an offer"
        assert overlapping_live_pairs(conn, cat.location_id) == 0
    print(f"cancel storm: {retried.deadlocks} deadlock retries")


async def test_holds_racing_for_lapsed_seats_lose_to_the_waiting_list(big_url: str) -> None:
    seats, waiters, racers = 10, 14, 30
    cat = seed_class(big_url, "Lapsed class", seats)
    start = cat.start(DAY, time(12))
    with psycopg.connect(big_url, autocommit=True) as conn:
        holds = [hold(conn, cat, start, f"lapser-{i}") for i in range(seats)]
    line = join_in_order(big_url, cat, start, [f"patient-{i}" for i in range(waiters)])
    with psycopg.connect(big_url, autocommit=True) as conn:
        conn.execute(
            "update booking.reservations set expires_at = now() - interval '1 minute'"
            " where id = any(%s::uuid[])",
            (holds,),
        )
    retried = Retried()

    async def grab(i: int, conn: AsyncConnection[Any]) -> Any:
        if i == 0:  # the maintenance job runs at the same moment
            return await retried.call(conn, "select api.cleanup_expired_holds()")
        return await retried.call(
            conn,
            "select api.create_hold_atomic(null, %s, %s, %s, null, null, 's')",
            f"impatient-{i}",
            cat.service_id,
            start,
        )

    results = await race(big_url, racers, grab)

    assert not any(as_json(r)["success"] for r in results[1:]), (
        "no racer gets a seat while somebody waits for it"
    )
    with psycopg.connect(big_url) as conn:
        states = entry_states(conn, line)
        assert [states[e] for e in line] == ["offered"] * seats + ["waiting"] * (waiters - seats)
        assert live_offers_per_entry(conn, cat.location_id) == dict.fromkeys(line[:seats], 1)
        assert overlapping_live_pairs(conn, cat.location_id) == 0
    print(f"lapsed seats: {retried.deadlocks} deadlock retries")


async def test_joins_racing_frees_leave_nobody_waiting_for_free_time(big_url: str) -> None:
    """Four stylists are booked at 10:00; four cancel while eight customers join the line and two
    offered ones decline, all at once. Whatever the interleaving, no entry may wait while a
    stylist is free then: every freed stylist went to an offer or a joiner."""
    with psycopg.connect(big_url) as conn:
        cat = seed_catalogue(conn, name="Join race", resources=4, max_live_holds_per_customer=5)
    start = cat.start(DAY, time(10))
    with psycopg.connect(big_url, autocommit=True) as conn:
        bookings = [book(conn, cat, start, f"join-booker-{i}") for i in range(4)]
    early = join_in_order(big_url, cat, start, [f"early-{i}" for i in range(3)])
    retried = Retried()

    async def act(i: int, conn: AsyncConnection[Any]) -> Any:
        if i < 4:
            return await retried.call(conn, "select api.cancel_booking(%s)", bookings[i])
        return await retried.call(
            conn, "select api.join_waitlist(%s, %s, %s)", f"joiner-{i}", cat.service_id, start
        )

    await race(big_url, 12, act)

    with psycopg.connect(big_url) as conn:
        live = one(
            conn,
            "select count(*) from booking.reservations where location_id = %s and starts_at = %s"
            " and status in ('held', 'confirmed')",
            cat.location_id,
            start,
        )
        waiting = one(
            conn,
            "select count(*) from booking.waitlist_entries where location_id = %s"
            " and status = 'waiting'",
            cat.location_id,
        )
        assert live == 4, "every freed stylist was offered to someone in line"
        assert waiting == 3 + 8 - 4
        states = entry_states(conn, early)
        assert [states[e] for e in early] == ["offered"] * 3, "those in line before the storm first"
        assert all(n == 1 for n in live_offers_per_entry(conn, cat.location_id).values())
        assert overlapping_live_pairs(conn, cat.location_id) == 0
    print(f"join race: {retried.deadlocks} deadlock retries")


async def test_declines_pass_each_offer_down_the_line_once(big_url: str) -> None:
    """Six offered waiters decline at the same moment: their six seats go to the next six in line,
    each once."""
    seats, waiters = 6, 16
    cat = seed_class(big_url, "Decline class", seats)
    start = cat.start(DAY, time(14))
    with psycopg.connect(big_url, autocommit=True) as conn:
        bookings = [book(conn, cat, start, f"decline-booker-{i}") for i in range(seats)]
    line = join_in_order(big_url, cat, start, [f"decliner-{i}" for i in range(waiters)])
    with psycopg.connect(big_url, autocommit=True) as conn:
        for b in bookings:
            conn.execute("select api.cancel_booking(%s)", (b,))
    retried = Retried()

    await race(
        big_url,
        seats,
        lambda i, conn: retried.call(conn, "select api.decline_offer(%s)", line[i]),
    )

    with psycopg.connect(big_url) as conn:
        states = entry_states(conn, line)
        assert [states[e] for e in line] == (
            ["declined"] * seats + ["offered"] * seats + ["waiting"] * (waiters - 2 * seats)
        )
        assert live_offers_per_entry(conn, cat.location_id) == dict.fromkeys(
            line[seats : 2 * seats], 1
        )
        assert overlapping_live_pairs(conn, cat.location_id) == 0
    print(f"declines: {retried.deadlocks} deadlock retries")


def test_the_line_is_kept_in_join_order(big_url: str) -> None:
    """Positions follow join order and close up when someone leaves."""
    cat = seed_class(big_url, "Positions class", 1)
    start = cat.start(DAY, time(16))
    with psycopg.connect(big_url, autocommit=True) as conn:
        one(conn, "select api.create_booking_atomic(%s, %s, 'pos-booker', '{}')",
            cat.service_id, start)  # fmt: skip
    line = join_in_order(big_url, cat, start, [f"pos-{i}" for i in range(5)])
    with psycopg.connect(big_url, autocommit=True) as conn:
        positions = [
            as_json(one(conn, "select api.get_waitlist_entry(%s)", e))["position"] for e in line
        ]
        assert positions == [1, 2, 3, 4, 5]
        conn.execute("select api.leave_waitlist(%s)", (line[1],))
        positions = [
            as_json(one(conn, "select api.get_waitlist_entry(%s)", e))["position"] for e in line
        ]
        assert positions == [1, None, 2, 3, 4]
