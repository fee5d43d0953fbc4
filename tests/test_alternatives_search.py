"""The nearest-first search for alternatives gives exactly what the day's full slot grid gave.

booking.alternatives used to build the slot grid of the requested day (then of the next seven) for
every eligible resource with booking.free_slots and pick the nearest free starts; it now searches
outward from the requested time and stops at five. The old computation is kept here, verbatim, as
the reference, and both answer the same questions on randomized catalogues: time zones with DST
changes (of an hour, of half an hour) and odd offsets, weekly hours that touch or cross midnight,
time off, closures and extra hours, buffers, slot steps, minimum notice and advance limits,
confirmed bookings, live and lapsed holds, a reservation to ignore, a preferred resource or none;
resources of several seats (a class), their seats taken one by one, and questions for several seats
(a start counts when that many seats of one resource are free then: free_slots' seats_free).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

CASES = 120
QUESTIONS_PER_CASE = 4

REFERENCE_SQL = [
    """
    create function pg_temp.alternatives_within_reference(
      p_service_id uuid, p_zone text, p_near timestamptz, p_preferred uuid, p_limit integer,
      p_ignore uuid, p_from date, p_days integer, p_seats integer)
    returns jsonb language sql stable as $$
      with best_per_start as (
        select distinct on (f.starts_at) f.*
        from booking.free_slots(p_service_id, p_from, p_days, null, now(), p_ignore) f
        where f.seats_free >= p_seats
        order by f.starts_at, (f.resource_id = p_preferred) desc nulls last, f.preference,
                 f.resource_id
      ),
      chosen as (
        select * from best_per_start b
        order by abs(extract(epoch from b.starts_at - p_near)),
                 (b.resource_id = p_preferred) desc nulls last, b.starts_at
        limit p_limit
      )
      select coalesce(jsonb_agg(jsonb_build_object(
                'slot_id', booking.slot_id(p_service_id, c.starts_at),
                'start_time', c.starts_at, 'end_time', c.ends_at, 'resource_id', c.resource_id,
                'time_zone', p_zone, 'start_local', c.starts_at at time zone p_zone,
                'end_local', c.ends_at at time zone p_zone)
              order by abs(extract(epoch from c.starts_at - p_near)), c.starts_at), '[]'::jsonb)
      from chosen c;
    $$
    """,
    """
    create function pg_temp.alternatives_reference(
      p_service_id uuid, p_zone text, p_near timestamptz, p_preferred uuid, p_limit integer,
      p_ignore uuid, p_seats integer)
    returns jsonb language plpgsql stable as $$
    declare
      v_day date := booking.local_day(p_near, p_zone);
      v_found jsonb;
    begin
      v_found := pg_temp.alternatives_within_reference(p_service_id, p_zone, p_near, p_preferred,
                                                       p_limit, p_ignore, v_day, 1, p_seats);
      if jsonb_array_length(v_found) < p_limit then
        v_found := v_found || pg_temp.alternatives_within_reference(
          p_service_id, p_zone, p_near, p_preferred, p_limit - jsonb_array_length(v_found),
          p_ignore, v_day + 1, 7, p_seats);
      end if;
      return v_found;
    end;
    $$
    """,
]

# Zones with an hour of DST, half an hour of DST, odd offsets and none; and local days on which
# their clocks change (after today, so minimum notice and advance limits still apply).
DST_DAYS = {
    "Europe/Warsaw": [date(2027, 3, 28), date(2027, 10, 31)],
    "America/New_York": [date(2027, 3, 14), date(2027, 11, 7)],
    "Australia/Lord_Howe": [date(2027, 4, 4), date(2027, 10, 3)],
    "Pacific/Chatham": [date(2027, 4, 4), date(2027, 9, 26)],
    "America/St_Johns": [date(2027, 3, 14), date(2027, 11, 7)],
    "Asia/Kolkata": [],
    "UTC": [],
}


@dataclass
class Case:
    location_id: uuid.UUID
    service_id: uuid.UUID
    zone: str
    resources: list[uuid.UUID]
    reservations: list[uuid.UUID]
    days: list[date]
    step: timedelta
    capacity: int  # the most seats of any resource


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def seed_case(cur: psycopg.Cursor[Any], rng: random.Random, today: date) -> Case:
    zone = rng.choice(list(DST_DAYS))
    near_days = [today + timedelta(days=rng.choice([0, 0, 1, 2, 5]))]
    if DST_DAYS[zone] and rng.random() < 0.5:
        near_days = [rng.choice(DST_DAYS[zone]) + timedelta(days=rng.choice([-1, 0, 0, 1]))]
    days = [near_days[0] + timedelta(days=n) for n in range(-1, 10)]
    location = uuid.uuid4()
    cur.execute(
        "insert into booking.locations (id, name, time_zone) values (%s, 'alt', %s)",
        (location, zone),
    )
    step = minutes(rng.choice([5, 10, 15, 15, 20, 30, 30, 45, 60]))
    service = uuid.uuid4()
    cur.execute(
        "insert into booking.services (id, location_id, name, duration, buffer_before,"
        " buffer_after, slot_step, min_notice, max_advance, active)"
        " values (%s, %s, 'alt', %s, %s, %s, %s, %s, %s, %s)",
        (
            service,
            location,
            minutes(rng.choice([15, 25, 30, 45, 60, 60, 90, 120])),
            minutes(rng.choice([0, 0, 0, 5, 15])),
            minutes(rng.choice([0, 0, 10, 15, 30])),
            step,
            rng.choice([timedelta(0), timedelta(0), timedelta(hours=2), timedelta(days=1)]),
            rng.choice(
                [timedelta(days=1), timedelta(days=3), timedelta(days=800), timedelta(days=800)]
            ),
            rng.random() > 0.03,
        ),
    )
    resources = [uuid.uuid4() for _ in range(rng.randint(1, 6))]
    capacities = {r: rng.choice([1, 1, 1, 2, 3]) for r in resources}
    sparse = rng.random() < 0.35  # a few short windows a week: fewer than five free starts
    for rid in resources:
        cur.execute(
            "insert into booking.resources (id, location_id, name, active, capacity)"
            " values (%s, %s, 'r', %s, %s)",
            (rid, location, rng.random() > 0.1, capacities[rid]),
        )
        if rng.random() > 0.1:
            cur.execute(
                "insert into booking.service_resources (location_id, service_id, resource_id,"
                " preference) values (%s, %s, %s, %s)",
                (location, service, rid, rng.randint(1, 3)),
            )
        for weekday in range(1, 8):
            for lower, upper in sparse_windows(rng) if sparse else weekly_windows(rng):
                cur.execute(
                    "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
                    " values (%s, %s, %s, booking.timerange(%s::time, %s::time))",
                    (location, rid, weekday, lower, upper),
                )
    tz = ZoneInfo(zone)
    for _ in range(rng.randint(0, 4)):
        kind = rng.choice(["time_off", "closure", "extra_hours", "extra_hours"])
        start = local(rng.choice(days), rng.randint(0, 47) * 30, tz)
        cur.execute(
            "insert into booking.schedule_exceptions (location_id, resource_id, kind, period)"
            " values (%s, %s, %s, tstzrange(%s, %s))",
            (
                location,
                None if kind == "closure" and rng.random() < 0.5 else rng.choice(resources),
                kind,
                start,
                start + minutes(rng.choice([60, 150, 240, 600, 1500, 3000])),
            ),
        )
    customer = uuid.uuid4()
    cur.execute(
        "insert into booking.customers (id, subject) values (%s, %s)", (customer, str(customer))
    )
    reservations = []
    for rid in resources:
        for _ in range(rng.randint(0, 10 * capacities[rid])):
            start = local(rng.choice(days[:4]), rng.randint(0, 95) * 15, tz)
            end = start + minutes(rng.choice([15, 30, 60, 90]))
            status, expires = rng.choice(
                [
                    ("confirmed", None),
                    ("confirmed", None),
                    ("held", "now() + interval '5 minutes'"),
                    ("held", "now() - interval '1 minute'"),
                    ("cancelled", None),
                ]
            )
            occupied = (start - minutes(rng.choice([0, 10])), end + minutes(rng.choice([0, 0, 15])))
            reservation = uuid.uuid4()
            try:  # an overlapping live one is refused (its unit would break the invariant): skip it
                with cur.connection.transaction():
                    # its one unit first, on a random seat (inserted with units = 0, a reservation
                    # would get seat 1)
                    cur.execute(
                        "insert into booking.units (location_id, reservation_id, seat,"
                        " resource_id, occupied, status, expires_at) values"
                        f" (%s, %s, %s, %s, tstzrange(%s, %s), %s, {expires or 'null'})",
                        (
                            location,
                            reservation,
                            rng.randint(1, capacities[rid]),
                            rid,
                            *occupied,
                            status,
                        ),
                    )
                    cur.execute(
                        "insert into booking.reservations (id, location_id, resource_id,"
                        " service_id, customer_id, starts_at, ends_at, occupied, status,"
                        " expires_at, units) values"
                        f" (%s, %s, %s, %s, %s, %s, %s, tstzrange(%s, %s), %s,"
                        f" {expires or 'null'}, 1)",
                        (
                            reservation,
                            location,
                            rid,
                            service,
                            customer,
                            start,
                            end,
                            *occupied,
                            status,
                        ),
                    )
            except psycopg.errors.ExclusionViolation:
                continue
            reservations.append(reservation)
    return Case(
        location,
        service,
        zone,
        resources,
        reservations,
        near_days,
        step,
        max(capacities.values()),
    )


def weekly_windows(rng: random.Random) -> list[tuple[str, str]]:
    """Zero to two windows of a day, sometimes touching each other, midnight or both."""
    shape = rng.random()
    if shape < 0.15:
        return []
    if shape < 0.35:  # open across midnight: until 24:00, and from 00:00 the next day
        return [("00:00", f"{rng.randint(1, 4):02d}:00"), (f"{rng.randint(8, 21):02d}:00", "24:00")]
    opens = rng.randint(0, 12) * 60 + rng.choice([0, 15, 30])
    closes = min(opens + rng.randint(2, 14) * 60, 24 * 60)
    windows = [(opens, closes)]
    if rng.random() < 0.3 and closes < 22 * 60:
        later = closes + rng.choice([0, 0, 30])
        windows.append((later, min(later + 120, 24 * 60)))
    return [(clock(a), clock(b)) for a, b in windows]


def sparse_windows(rng: random.Random) -> list[tuple[str, str]]:
    if rng.random() < 0.75:
        return []
    opens = rng.randint(6, 20) * 60
    return [(clock(opens), clock(opens + rng.randint(1, 3) * 60))]


def clock(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def local(day: date, minute_of_day: int, tz: ZoneInfo) -> datetime:
    """The instant some minutes after a local midnight (in elapsed time, so DST days work)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC) + minutes(minute_of_day)


def near_time(rng: random.Random, case: Case) -> datetime:
    tz = ZoneInfo(case.zone)
    day = case.days[0]
    if rng.random() < 0.8:  # on the grid, as a requested start is
        steps = int(timedelta(days=1) / case.step)
        return local(day, int(rng.randint(0, steps - 1) * case.step.total_seconds() // 60), tz)
    return local(day, rng.randint(0, 24 * 60 - 1), tz)


def as_list(value: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = value if isinstance(value, list) else json.loads(value)
    return result


def test_nearest_first_search_answers_like_the_full_grid(database_url: str) -> None:
    rng = random.Random(20261202)
    compared = answered = full = later_days = partial = several_seats = 0
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        for statement in REFERENCE_SQL:
            cur.execute(statement)
        today_row = cur.execute("select current_date").fetchone()
        assert today_row is not None
        for n in range(CASES):
            cur.execute("savepoint a_case")
            case = seed_case(cur, rng, today_row[0])
            for _ in range(QUESTIONS_PER_CASE):
                near = near_time(rng, case)
                preferred = rng.choice([None, *case.resources])
                ignore = rng.choice([None, None, *case.reservations]) if case.reservations else None
                seats = rng.choice([1, 1, 1, 2, 3]) if case.capacity > 1 else 1
                args = (case.service_id, case.zone, near, preferred, 5, ignore, seats)
                row = cur.execute(
                    "select booking.alternatives(%s, %s, %s, %s, %s, %s, %s),"
                    " pg_temp.alternatives_reference(%s, %s, %s, %s, %s, %s, %s)",
                    args + args,
                ).fetchone()
                assert row is not None
                searched, reference = as_list(row[0]), as_list(row[1])
                assert searched == reference, (
                    f"case {n}: {case}, near {near}, preferred {preferred}, seats {seats}"
                )
                several_seats += seats > 1 and bool(reference)
                compared += 1
                answered += bool(reference)
                full += len(reference) == 5
                partial += 0 < len(reference) < 5
                near_day = near.astimezone(ZoneInfo(case.zone)).date()
                later_days += any(
                    datetime.fromisoformat(a["start_time"]).astimezone(ZoneInfo(case.zone)).date()
                    > near_day
                    for a in reference
                )
            cur.execute("rollback to savepoint a_case")
        conn.rollback()
    # the questions were not all trivial: some found nothing, most found something, many five,
    # some fewer than five, some reached past the requested day
    assert compared == CASES * QUESTIONS_PER_CASE
    assert compared > answered > compared // 2
    assert full > compared // 4
    assert partial > 0 and later_days > 0
    assert several_seats > 0
