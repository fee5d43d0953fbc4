"""Multi-resource services under real concurrency: a hundred connections race for overlapping
room-and-therapist combinations through two services whose pools are in opposite order (a
massage needs a room for its whole hour and a therapist with it; a physiotherapy session needs a
therapist and a room with it). A write that held one unit while it waited for the next, in a
different order than its rival, would deadlock; the (resource, hour) locks each multi-unit write
takes first, in key order, make that impossible. Afterwards the database is checked, not only the
answers: no unit double-booked, no reservation without all its units, as many winners as there
are rooms and therapists. Moves of such bookings race too, and a reschedule whose wash station
would be taken keeps its time."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg.types.range import Range

from testkit.throwaway_postgres import ThrowawayPostgres
from tests.support.overlaps import overlapping_live_pairs
from tests.support.racing import race

ZONE = "Europe/Warsaw"
DAY = date(2031, 5, 14)  # a Wednesday
HOUR = timedelta(hours=1)

HOLD_SQL = """
    select api.create_hold_atomic(null, %(user)s, %(service)s, %(start)s, null, null,
                                  %(session)s, %(resource)s)
"""
BOOK_SQL = """
    select api.create_booking_atomic(%(service)s, %(start)s, %(user)s, '{}'::jsonb, %(resource)s)
"""
RESCHEDULE_SQL = "select api.reschedule_booking(%s::uuid, %s::timestamptz)"
# the units of a location's live reservations
LIVE_UNITS_SQL = """
    select r.id, r.service_id, u.pool, u.resource_id, u.occupied
    from booking.reservations r
    join booking.units u on u.location_id = r.location_id and u.reservation_id = r.id
    where r.location_id = %s and r.status in ('held', 'confirmed')
    order by r.id, u.pool
"""
Unit = tuple[int, uuid.UUID, Range[datetime]]


@dataclass(frozen=True)
class Clinic:
    """Two rooms and two therapists, every day 08:00-20:00. Massage: a room for its hour and a
    therapist with it (pool 2). Physio: a therapist and a room with it (pool 2): the same two
    resources, pools in the opposite order."""

    location_id: uuid.UUID
    rooms: tuple[uuid.UUID, uuid.UUID]
    therapists: tuple[uuid.UUID, uuid.UUID]
    massage: uuid.UUID
    physio: uuid.UUID

    def at(self, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(DAY, time(hour, minute), tzinfo=ZoneInfo(ZONE))


def _admin(conn: psycopg.Connection[Any], query: str, params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def seed_clinic(url: str, name: str) -> Clinic:
    """Set up through the admin API (a trusted session): what a catalogue file would do."""
    with psycopg.connect(url) as conn:
        loc = uuid.UUID(
            _admin(
                conn, "select api.create_location(%(n)s, %(z)s, 100)->>'id'", {"n": name, "z": ZONE}
            )
        )
        week = Jsonb([{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(1, 8)])

        def resource(label: str, kind: str) -> uuid.UUID:
            rid = uuid.UUID(
                _admin(
                    conn,
                    "select api.create_resource(%(l)s, %(n)s, %(k)s)->>'id'",
                    {"l": loc, "n": label, "k": kind},
                )
            )
            _admin(conn, "select api.set_working_hours(%(r)s, %(w)s)", {"r": rid, "w": week})
            return rid

        rooms = (resource("Room 1", "room"), resource("Room 2", "room"))
        therapists = (resource("Tom", "staff"), resource("Tess", "staff"))

        def service(
            label: str, main: tuple[uuid.UUID, ...], pool: tuple[uuid.UUID, ...]
        ) -> uuid.UUID:
            sid = uuid.UUID(
                _admin(
                    conn,
                    "select api.create_service(%(l)s, %(n)s, '1 hour', p_slot_step => '30 minutes',"
                    " p_max_advance => '3650 days')->>'id'",
                    {"l": loc, "n": label},
                )
            )
            _admin(
                conn,
                "select api.set_service_resources(%(s)s, %(m)s::uuid[])",
                {"s": sid, "m": list(main)},
            )
            pools = [{"pool": 2, "name": "with", "resource_ids": [str(r) for r in pool]}]
            _admin(
                conn, "select api.set_service_pools(%(s)s, %(p)s)", {"s": sid, "p": Jsonb(pools)}
            )
            return sid

        massage = service("Massage", rooms, therapists)
        physio = service("Physio", therapists, rooms)
    return Clinic(loc, rooms, therapists, massage, physio)


async def call(conn: AsyncConnection[Any], query: str, params: Any) -> dict[str, Any]:
    """The result of one api call, or {"error": SQLSTATE} when it raised."""
    try:
        cur = await conn.execute(query, params)
        row = await cur.fetchone()
    except psycopg.Error as exc:
        return {"error": exc.sqlstate, "message": str(exc)}
    assert row is not None
    result: dict[str, Any] = row[0]
    return result


def live(url: str, location: uuid.UUID) -> dict[uuid.UUID, tuple[uuid.UUID, list[Unit]]]:
    """Each live reservation of the location: its service and its units by pool."""
    found: dict[uuid.UUID, tuple[uuid.UUID, list[Unit]]] = {}
    with psycopg.connect(url) as conn:
        for rid, service, pool, resource, occupied in conn.execute(LIVE_UNITS_SQL, (location,)):
            found.setdefault(rid, (service, []))[1].append((pool, resource, occupied))
    return found


def assert_whole_and_apart(url: str, clinic: Clinic) -> None:
    """No unit double-booked, every unit in step with its reservation, and every live
    reservation holds one room and one therapist (never a part of what it needs)."""
    with psycopg.connect(url) as conn:
        assert overlapping_live_pairs(conn, clinic.location_id) == 0
    for service, units in live(url, clinic.location_id).values():
        assert [u[0] for u in units] == [1, 2], units
        resources = {u[1] for u in units}
        assert len(resources & set(clinic.rooms)) == 1, units
        assert len(resources & set(clinic.therapists)) == 1, units
        main = units[0][1]
        assert main in (clinic.rooms if service == clinic.massage else clinic.therapists), units


def shifted(units: list[Unit], by: timedelta) -> list[Unit]:
    return [
        (pool, resource, Range(occupied.lower + by, occupied.upper + by, occupied.bounds))
        for pool, resource, occupied in units
        if occupied.lower is not None and occupied.upper is not None
    ]


@pytest.fixture(scope="module")
def big_url(big_server: ThrowawayPostgres) -> str:
    return big_server.url("booking")


async def test_a_hundred_racers_for_rooms_and_therapists_in_opposite_pool_order(
    big_url: str,
) -> None:
    clinic = seed_clinic(big_url, "Opposite pools")
    rng = random.Random(14)
    # 10:00 and 10:30 overlap: two rooms and two therapists make two appointments in all, any
    # mix of Massage and Physio at either start; 16:00 is a second, separate pair
    kinds = (clinic.massage, clinic.physio)
    wants = [(rng.choice(kinds), rng.choice((clinic.at(10), clinic.at(10, 30)))) for _ in range(70)]
    wants += [(rng.choice(kinds), clinic.at(16)) for _ in range(30)]

    async def attempt(i: int, conn: AsyncConnection[Any]) -> dict[str, Any]:
        service, start = wants[i]
        params = {
            "user": f"racer-{i}",
            "service": service,
            "start": start,
            "session": f"s-{i}",
            "resource": None,
        }
        return await call(conn, HOLD_SQL if i % 2 else BOOK_SQL, params)

    results = await race(big_url, len(wants), attempt)

    assert [r for r in results if "error" in r] == []  # no deadlock, nothing raised
    winners = [i for i, r in enumerate(results) if r["success"]]
    morning = [i for i in winners if wants[i][1] < clinic.at(12)]
    afternoon = [i for i in winners if wants[i][1] >= clinic.at(12)]
    assert len(morning) == 2, [
        results[i] for i in morning
    ]  # what two rooms and two therapists allow
    assert len(afternoon) == 2, [results[i] for i in afternoon]
    refused = [r for r in results if not r["success"]]
    assert {r["conflict_type"] for r in refused} <= {"HOLD_CONFLICT", "BOOKING_CONFLICT"}
    assert_whole_and_apart(big_url, clinic)
    assert len(live(big_url, clinic.location_id)) == 4

    # the holds among the winners become bookings while 40 more racers book the same times:
    # every conversion keeps all its units, nobody else gets in
    holds = [i for i in winners if "hold_id" in results[i]]

    async def convert_or_book(k: int, conn: AsyncConnection[Any]) -> dict[str, Any]:
        if k < len(holds):
            i = holds[k]
            return await call(
                conn,
                "select api.convert_hold_to_booking(%s::uuid, %s::text, '{}'::jsonb)",
                (results[i]["hold_id"], f"s-{i}"),
            )
        service, start = wants[rng.randrange(len(wants))]
        params = {"user": f"late-{k}", "service": service, "start": start, "resource": None}
        return await call(conn, BOOK_SQL, params)

    second = await race(big_url, len(holds) + 40, convert_or_book)
    assert [r for r in second if "error" in r] == []
    assert [r["status"] for r in second[: len(holds)]] == ["confirmed"] * len(holds)
    assert not any(r["success"] for r in second[len(holds) :])
    assert_whole_and_apart(big_url, clinic)

    # one morning booking is cancelled: exactly one of 40 racers gets its room and therapist
    first = results[morning[0]]
    ident = first.get("booking_id") or first["hold_id"]
    with psycopg.connect(big_url) as conn:
        conn.execute("select api.cancel_booking(%s)", (ident,))
        freed = conn.execute(
            "select count(*) from booking.units where reservation_id = %s and status = 'cancelled'",
            (ident,),
        ).fetchone()
    assert freed == (2,)  # both of its units are free again

    async def book_freed(k: int, conn: AsyncConnection[Any]) -> dict[str, Any]:
        params = {
            "user": f"freed-{k}",
            "service": rng.choice(kinds),
            "start": wants[morning[0]][1],
            "resource": None,
        }
        return await call(conn, BOOK_SQL, params)

    third = await race(big_url, 40, book_freed)
    assert [r for r in third if "error" in r] == []
    assert sum(r["success"] for r in third) == 1
    assert_whole_and_apart(big_url, clinic)


async def test_moves_of_two_unit_bookings_race_with_new_ones(big_url: str) -> None:
    """Ten bookings (a room and a therapist each, two an hour from 08:00 to 12:00) move five hours
    later while sixty racers hold the later times of those from even hours, through both services:
    every move happened whole (both units moved by five hours) or not at all (both where they
    were), the moves nobody raced for all happened, and nothing deadlocks."""
    clinic = seed_clinic(big_url, "Moving pools")
    booked: list[tuple[uuid.UUID, datetime]] = []
    with psycopg.connect(big_url, autocommit=True) as conn:
        for hour in range(8, 13):
            for service in (clinic.massage, clinic.physio):
                params = {
                    "user": f"mover-{hour}",
                    "service": service,
                    "start": clinic.at(hour),
                    "resource": None,
                }
                booked.append(
                    (uuid.UUID(_admin(conn, BOOK_SQL, params)["booking_id"]), clinic.at(hour))
                )
    before = live(big_url, clinic.location_id)
    shift = 5 * HOUR
    contested = [clinic.at(hour) + shift for hour in (8, 10, 12)]
    rng = random.Random(41)

    async def move_or_take(i: int, conn: AsyncConnection[Any]) -> dict[str, Any]:
        if i < len(booked):
            ident, start = booked[i]
            return await call(conn, RESCHEDULE_SQL, (ident, start + shift))
        params = {
            "user": f"taker-{i}",
            "service": rng.choice((clinic.massage, clinic.physio)),
            "start": rng.choice(contested),
            "session": f"t-{i}",
            "resource": None,
        }
        return await call(conn, HOLD_SQL, params)

    results = await race(big_url, len(booked) + 60, move_or_take)
    assert [r for r in results if "error" in r] == []
    assert_whole_and_apart(big_url, clinic)
    after = live(big_url, clinic.location_id)
    for (ident, start), result in zip(booked, results, strict=False):
        was, now = before[ident][1], after[ident][1]
        if start.hour % 2:
            assert result["success"], result  # nobody else wanted its new time
        if result["success"]:
            assert now == shifted(was, shift), (was, now)
        else:
            assert now == was, (was, now)


async def test_a_reschedule_whose_wash_station_is_taken_keeps_its_time(big_url: str) -> None:
    """A Colouring takes a stylist for 90 minutes and the wash station for the first 20. Moved,
    its wash station unit moves by as much as its start; moved onto a time whose wash station is
    booked, it is refused naming the pool and keeps its time and units."""
    with psycopg.connect(big_url, autocommit=True) as conn:
        clinic = seed_clinic(big_url, "Wash station")
        loc = clinic.location_id
        stylist, wash = clinic.therapists[0], clinic.rooms[0]
        colouring = uuid.UUID(
            _admin(
                conn,
                "select api.create_service(%(l)s, 'Colouring', '90 minutes',"
                " p_slot_step => '30 minutes', p_max_advance => '3650 days')->>'id'",
                {"l": loc},
            )
        )
        _admin(
            conn,
            "select api.set_service_resources(%(s)s, %(m)s::uuid[])",
            {"s": colouring, "m": [stylist]},
        )
        pools = [
            {"pool": 2, "name": "Wash station", "lasts": "20 minutes", "resource_ids": [str(wash)]}
        ]
        _admin(
            conn, "select api.set_service_pools(%(s)s, %(p)s)", {"s": colouring, "p": Jsonb(pools)}
        )
        params = {"user": "cora", "service": colouring, "start": clinic.at(12), "resource": None}
        booking = _admin(conn, BOOK_SQL, params)
        ident = uuid.UUID(booking["booking_id"])
        # at 14:00 a physio with Tess takes room 1 (the wash station here), the first room
        params = {
            "user": "mia",
            "service": clinic.physio,
            "start": clinic.at(14),
            "resource": clinic.therapists[1],
        }
        physio = uuid.UUID(_admin(conn, BOOK_SQL, params)["booking_id"])
        assert wash in {u[1] for u in live(big_url, loc)[physio][1]}
        was = live(big_url, loc)[ident][1]

        refused = _admin(conn, RESCHEDULE_SQL, (ident, clinic.at(14)))
        assert refused["success"] is False
        assert refused["pool"] == {"pool": 2, "name": "Wash station"}
        assert live(big_url, loc)[ident][1] == was  # its time and every unit where they were

        moved = _admin(conn, RESCHEDULE_SQL, (ident, clinic.at(15)))
        assert moved["success"] is True, moved
        assert live(big_url, loc)[ident][1] == shifted(was, 3 * HOUR)
