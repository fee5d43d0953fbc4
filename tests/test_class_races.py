"""Classes under concurrency: real connections (one per racer) against a throwaway PostgreSQL with
room for hundreds of them. A class is a resource with a capacity whose seats are units; every test
asserts on the database afterwards: no two live units of one seat overlap, units are in step with
their reservations (tests/support/overlaps.py), no live unit sits on a seat beyond its resource's
capacity, and no instant has more live seats than the capacity."""

from __future__ import annotations

import asyncio
import random
import time as clock
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection

from testkit.catalogue import Catalogue, seed_catalogue
from testkit.throwaway_postgres import ThrowawayPostgres
from tests.support.overlaps import overlapping_live_pairs
from tests.support.racing import close_all, open_connections, race

Result = dict[str, Any]

DAY = date(2031, 5, 14)  # a Wednesday, well inside max_advance

HOLD_SQL = """
    select api.create_hold_atomic(
      p_slot_id => null, p_user_id => %(user)s::text, p_service_id => %(service)s::uuid,
      p_start_time => %(start)s::timestamptz, p_end_time => null,
      p_expires_at => now() + %(ttl)s::interval, p_session_id => %(session)s::text,
      p_resource_id => %(resource)s::uuid, p_seats => %(seats)s::int)
"""
BOOK_SQL = """
    select api.create_booking_atomic(
      p_service_id => %(service)s::uuid, p_start_time => %(start)s::timestamptz,
      p_user_id => %(user)s::text, p_booking_data => '{}'::jsonb,
      p_resource_id => %(resource)s::uuid, p_seats => %(seats)s::int)
"""
CONVERT_SQL = """
    select api.convert_hold_to_booking(p_hold_id => %s::uuid, p_session_id => %s::text,
                                       p_booking_data => '{}'::jsonb)
"""
RELEASE_SQL = "select api.release_hold(p_hold_id => %s::uuid, p_session_id => %s::text)"
CANCEL_SQL = "select api.cancel_booking(p_booking_id => %s::uuid, p_reason => 'changed plans')"
RESCHEDULE_SQL = """
    select api.reschedule_booking(p_booking_id => %s::uuid, p_new_start => %s::timestamptz,
                                  p_expected_version => %s::bigint)
"""

# live units on a seat beyond their resource's capacity
BEYOND_CAPACITY_SQL = """
    select count(*) from booking.units u
    join booking.resources r on r.location_id = u.location_id and r.id = u.resource_id
    where u.location_id = %(location)s and u.status in ('held', 'confirmed') and u.seat > r.capacity
"""
# the most live units of one resource covering one instant (any unit's start), by resource
CROWDED_SQL = """
    select u.resource_id, max((select count(*) from booking.units v
                               where v.location_id = u.location_id and v.resource_id = u.resource_id
                                 and v.status in ('held', 'confirmed')
                                 and (v.status = 'confirmed' or v.expires_at > now())
                                 and v.occupied @> lower(u.occupied)))
    from booking.units u
    where u.location_id = %(location)s and u.status in ('held', 'confirmed')
    group by u.resource_id
"""


@pytest.fixture(scope="module")
def big_url(big_server: ThrowawayPostgres) -> str:
    return big_server.url("booking")


def seed_class(
    url: str, name: str, capacities: list[int], max_seats: int, **options: Any
) -> Catalogue:
    """A location whose resources are rooms of these capacities, all holding one class service
    (60 minutes on an hourly grid, 07:00-21:00) that takes at most max_seats seats a booking."""
    with psycopg.connect(url) as conn:
        cat = seed_catalogue(
            conn,
            name=name,
            resources=len(capacities),
            slot_step=timedelta(hours=1),
            opens=time(7),
            closes=time(21),
            **options,
        )
        for rid, capacity in zip(cat.resource_ids, capacities, strict=True):
            conn.execute(
                "update booking.resources set kind = 'room', capacity = %s where id = %s",
                (capacity, rid),
            )
        conn.execute(
            "update booking.services set max_seats = %s where id = %s", (max_seats, cat.service_id)
        )
    return cat


async def call(conn: AsyncConnection[Any], query: str, params: Any = None) -> Any:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    assert row is not None
    return row[0]


def hold_params(
    cat: Catalogue,
    start: datetime,
    user: str,
    seats: int,
    resource: uuid.UUID | None = None,
    ttl: timedelta | None = None,
    session: str | None = None,
) -> dict[str, Any]:
    return {
        "user": user,
        "service": cat.service_id,
        "start": start,
        "ttl": ttl,
        "session": session or f"session-{user}",
        "resource": resource,
        "seats": seats,
    }


def assert_no_overbooking(conn: psycopg.Connection[Any], cat: Catalogue) -> None:
    assert overlapping_live_pairs(conn, cat.location_id) == 0
    row = conn.execute(BEYOND_CAPACITY_SQL, {"location": cat.location_id}).fetchone()
    assert row == (0,), "a live unit on a seat beyond its resource's capacity"
    capacity = dict(
        conn.execute(
            "select id, capacity from booking.resources where location_id = %s", (cat.location_id,)
        ).fetchall()
    )
    for resource_id, crowd in conn.execute(CROWDED_SQL, {"location": cat.location_id}):
        assert crowd <= capacity[resource_id], (resource_id, crowd, capacity[resource_id])


def seats_of_winners(conn: psycopg.Connection[Any], ids: list[str]) -> list[list[int]]:
    return [
        [
            r[0]
            for r in conn.execute(
                "select seat from booking.units where reservation_id = %s order by seat", (i,)
            )
        ]
        for i in ids
    ]


async def fill_but_three(url: str, cat: Catalogue, start: datetime) -> None:
    """Nine of the room's twelve seats booked at the desk, three at a time."""
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        for n in range(3):
            params = hold_params(cat, start, f"desk-{n}", 3, cat.resource_ids[0])
            booked: Result = await call(conn, BOOK_SQL, params)
            assert booked["success"] and booked["seats"] == 3, booked


# ---------------------------------------------------------------------------------------------
# The last seats of a class


async def test_two_hundred_racers_for_the_last_three_seats_three_win(big_url: str) -> None:
    cat = seed_class(big_url, "Last three seats", [12], max_seats=3)
    start = cat.start(DAY, time(18))
    await fill_but_three(big_url, cat, start)
    results: list[Result] = await race(
        big_url,
        200,
        lambda i, conn: call(conn, HOLD_SQL, hold_params(cat, start, f"racer-{i}", 1)),
    )

    winners = [r for r in results if r["success"]]
    losers = [r for r in results if not r["success"]]
    assert len(winners) == 3, winners
    assert all(r["seats"] == 1 for r in winners)
    for loser in losers:
        assert loser["conflict_type"] in {"HOLD_CONFLICT", "BOOKING_CONFLICT"}, loser
        offered = {datetime.fromisoformat(a["start_time"]) for a in loser["alternatives"]}
        assert loser["alternatives"] and start not in offered, "a full session offered as free"
    with psycopg.connect(big_url) as conn:
        taken = seats_of_winners(conn, [r["hold_id"] for r in winners])
        assert sorted(s for seats in taken for s in seats) == [10, 11, 12]
        assert_no_overbooking(conn, cat)
        free = conn.execute(
            "select count(*) from api.get_availability(%s, %s) where start_time = %s",
            (cat.service_id, DAY, start),
        ).fetchone()
        assert free == (0,), "the full session is no longer available"


async def test_racers_for_one_two_or_three_seats_fill_exactly_the_last_three(
    big_url: str,
) -> None:
    """200 racers for the last three seats, a third of them asking for two seats and a sixth for
    three: the winners' seats add up to exactly three (3, 2 + 1 or 1 + 1 + 1), all or nothing."""
    cat = seed_class(big_url, "Last three seats, mixed", [12], max_seats=3)
    start = cat.start(DAY, time(19))
    await fill_but_three(big_url, cat, start)
    wants = [3 if i % 6 == 0 else 2 if i % 3 == 1 else 1 for i in range(200)]
    results: list[Result] = await race(
        big_url,
        200,
        lambda i, conn: call(conn, HOLD_SQL, hold_params(cat, start, f"mixed-{i}", wants[i])),
    )

    winners = [(wants[i], r) for i, r in enumerate(results) if r["success"]]
    assert sum(seats for seats, _ in winners) == 3, winners
    assert all(r["seats"] == seats for seats, r in winners)
    combination = sorted((seats for seats, _ in winners), reverse=True)
    assert combination in ([3], [2, 1], [1, 1, 1]), combination
    with psycopg.connect(big_url) as conn:
        taken = seats_of_winners(conn, [r["hold_id"] for _, r in winners])
        assert [len(s) for s in taken] == [seats for seats, _ in winners]
        assert sorted(s for seats in taken for s in seats) == [10, 11, 12]
        # a loser keeps no seat: every live unit at that time belongs to a winner or the desk
        lost = conn.execute(
            "select count(*) from booking.units u join booking.reservations r"
            " on r.location_id = u.location_id and r.id = u.reservation_id"
            " join booking.customers c on c.id = r.customer_id"
            " where u.location_id = %s and c.subject like 'mixed-%%'",
            (cat.location_id,),
        ).fetchone()
        assert lost == (3,)
        assert_no_overbooking(conn, cat)


# ---------------------------------------------------------------------------------------------
# A randomized workload on classes


@dataclass
class Ledger:
    operations: Counter[str] = field(default_factory=Counter)
    retryable: Counter[str] = field(default_factory=Counter)


@dataclass
class Seated:
    version: int
    start: datetime
    seats: int


@dataclass
class Member:
    """One client with its own connection and customer, and the holds and bookings it owns."""

    number: int
    cat: Catalogue
    starts: list[datetime]
    conn: AsyncConnection[Any]
    ledger: Ledger
    rng: random.Random
    holds: dict[uuid.UUID, tuple[str, int]] = field(default_factory=dict)  # id -> session, seats
    bookings: dict[uuid.UUID, Seated] = field(default_factory=dict)

    @property
    def user(self) -> str:
        return f"member-{self.number}"

    def outcome(self, operation: str, result: Result) -> bool:
        if result["success"]:
            self.ledger.operations[f"{operation}:ok"] += 1
            return True
        assert result["conflict_type"] in {"HOLD_CONFLICT", "BOOKING_CONFLICT"}, result
        self.ledger.operations[f"{operation}:conflict"] += 1
        return False

    def resource(self) -> uuid.UUID | None:
        return None if self.rng.random() < 0.5 else self.rng.choice(self.cat.resource_ids)

    async def create_hold(self) -> None:
        seats = self.rng.choice([1, 1, 1, 2, 3])
        # a third of the holds lapse within milliseconds, so rivals expire them in passing
        ttl = timedelta(milliseconds=self.rng.randint(1, 40)) if self.rng.random() < 0.35 else None
        session = f"s-{uuid.uuid4()}"
        params = hold_params(
            self.cat, self.rng.choice(self.starts), self.user, seats, self.resource(), ttl, session
        )
        result: Result = await call(self.conn, HOLD_SQL, params)
        if self.outcome("create_hold", result):
            assert result["seats"] == seats
            self.holds[uuid.UUID(result["hold_id"])] = (session, seats)

    async def book(self) -> None:
        seats = self.rng.choice([1, 1, 2, 3])
        params = hold_params(self.cat, self.rng.choice(self.starts), self.user, seats)
        params["resource"] = self.resource()
        result: Result = await call(self.conn, BOOK_SQL, params)
        if self.outcome("book", result):
            assert result["seats"] == seats
            self.bookings[uuid.UUID(result["booking_id"])] = Seated(
                1, datetime.fromisoformat(result["start_time"]), seats
            )

    async def convert(self) -> None:
        hold_id, (session, seats) = self.rng.choice(list(self.holds.items()))
        del self.holds[hold_id]
        result: Result = await call(self.conn, CONVERT_SQL, (hold_id, session))
        if self.outcome("convert", result):
            assert result["seats"] == seats
            self.bookings[hold_id] = Seated(
                result["version"], datetime.fromisoformat(result["start_time"]), seats
            )

    async def release(self) -> None:
        hold_id, (session, _) = self.rng.choice(list(self.holds.items()))
        del self.holds[hold_id]
        result: Result = await call(self.conn, RELEASE_SQL, (hold_id, session))
        assert result["success"] and result["status"] in {"released", "expired"}, result
        self.ledger.operations[f"release:{result['status']}"] += 1

    async def cancel(self) -> None:
        booking_id = self.rng.choice(list(self.bookings))
        result: Result = await call(self.conn, CANCEL_SQL, (booking_id,))
        assert result["success"] and result["status"] == "cancelled", result
        del self.bookings[booking_id]
        self.ledger.operations["cancel:ok"] += 1

    async def reschedule(self) -> None:
        booking_id, known = self.rng.choice(list(self.bookings.items()))
        new_start = self.rng.choice([s for s in self.starts if s != known.start])
        result: Result = await call(
            self.conn, RESCHEDULE_SQL, (booking_id, new_start, known.version)
        )
        if self.outcome("reschedule", result):
            assert result["seats"] == known.seats
            self.bookings[booking_id] = Seated(result["version"], new_start, known.seats)

    def choose(self) -> Callable[[], Awaitable[None]]:
        rng = self.rng
        if self.holds and (len(self.holds) >= 2 or rng.random() < 0.3):
            return self.convert if rng.random() < 0.6 else self.release
        if self.bookings and (len(self.bookings) >= 2 or rng.random() < 0.3):
            return self.cancel if rng.random() < 0.5 else self.reschedule
        return self.create_hold if rng.random() < 0.65 else self.book

    async def run(self, operations: int) -> None:
        for _ in range(operations):
            operation = self.choose()
            try:
                await operation()
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as e:
                # the gateway retries these (MAX_RETRIES); the transaction committed nothing
                self.ledger.retryable[f"{operation.__name__}:{type(e).__name__}"] += 1


MEMBERS = 16
OPERATIONS_PER_MEMBER = 750  # 16 x 750 = 12,000 operations


async def test_randomized_class_workload_never_overbooks(big_url: str) -> None:
    """Holds and bookings of 1-3 seats (a third of the holds lapsing within milliseconds),
    converts, releases, cancels and reschedules on two rooms of 4 and 6 seats over 8 sessions:
    about as many seats asked for as there are, so most sessions fill up and many attempts lose."""
    cat = seed_class(big_url, "Randomized classes", [4, 6], max_seats=3)
    starts = [
        cat.start(DAY + timedelta(days=d), time(h)) for d in range(2) for h in (9, 10, 11, 12)
    ]
    with psycopg.connect(big_url) as conn:  # this test is about seats, not the hold cap
        conn.execute(
            "update booking.locations set max_live_holds_per_customer = 20 where id = %s",
            (cat.location_id,),
        )
    seed_value = random.randrange(1 << 30)
    ledger = Ledger()
    conns = await open_connections(big_url, MEMBERS)
    began = clock.monotonic()
    try:
        members = [
            Member(i, cat, starts, conn, ledger, random.Random(seed_value + i))
            for i, conn in enumerate(conns)
        ]
        await asyncio.gather(*(m.run(OPERATIONS_PER_MEMBER) for m in members))
    finally:
        await close_all(conns)
    total = sum(ledger.operations.values()) + sum(ledger.retryable.values())
    print(
        f"\nclass workload (seed {seed_value}): {total} operations in"
        f" {clock.monotonic() - began:.1f} s; {dict(sorted(ledger.operations.items()))};"
        f" retryable {dict(ledger.retryable)}"
    )
    assert total == MEMBERS * OPERATIONS_PER_MEMBER
    assert ledger.operations["create_hold:conflict"] > 0 and ledger.operations["book:ok"] > 0
    assert ledger.operations["reschedule:ok"] > 0
    assert sum(ledger.retryable.values()) <= total // 100, dict(ledger.retryable)

    with psycopg.connect(big_url) as conn:
        assert_no_overbooking(conn, cat)
        rows = conn.execute(
            "select r.id, r.status, r.version, r.starts_at, r.seats,"
            " (select count(*) from booking.units u where u.reservation_id = r.id)"
            " from booking.reservations r where r.location_id = %s",
            (cat.location_id,),
        ).fetchall()
    stored = {r[0]: r for r in rows}
    assert all(seats == units for *_, seats, units in rows), "a reservation's units are its seats"
    # lapsed seat holds were taken over in passing (marked expired by the write that took them)
    assert sum(1 for r in rows if r[1] == "expired") > 0
    # what each member believes it has booked is what the ledger says
    for m in members:
        for booking_id, known in m.bookings.items():
            _, status, version, starts_at, seats, _ = stored[booking_id]
            assert (status, version, starts_at, seats) == (
                "confirmed",
                known.version,
                known.start,
                known.seats,
            )
