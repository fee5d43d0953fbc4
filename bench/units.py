"""Benchmark family "Units": what holds of several units cost next to a hold of one, in one run.

- Multi-resource holds: a 60-minute "cut and wash" needs a stylist for the whole hour and a wash
  station for its first 20 minutes (pool 2 of booking.service_pools), against a 60-minute cut
  that needs a stylist only; both on a named stylist at a random slot of 1,200,000 (100 stylists,
  1,000 days, 12 hourly slots), so holds rarely collide. A hold of two units takes its
  (resource, hour) advisory locks first (the lock order of sql/functions/41_units.sql).
- Seat holds: one seat of a 12-seat class at a random session of 14,400 (20 rooms, 60 days, 12
  sessions a day), so sessions fill up seat by seat: a hold tries seat 1 first, then up.
- A class over HTTP: 1,000 connections ask for one seat of one 12-seat session at the same
  moment (`booking serve --workers 2`, bench/loadgen.py): 12 win, the rest are told at once.

The catalogue is written with plain inserts (testkit/catalogue.py), the wash stations' pool with
plain inserts into booking.service_pools and booking.service_resources.pool. Each location is in
UTC, so the pgbench script's day arithmetic (86,400 s a day) holds for 1,000 days.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import psycopg

from bench import sql_engine
from bench.http import Gateway, burst_plan, loadgen
from bench.pgbench import Figures, Load, run_script
from bench.report import Section, table
from gateway.config import Settings
from testkit.catalogue import Catalogue, numbered_uuid, seed_slot_grid

STYLISTS = 100
SINGLE_FAMILY = 5  # stylists of the one-unit cut: 00000005-0000-4000-8000-<n>
POOLS_FAMILY = 6  # stylists of the cut and wash
WASH_FAMILY = 7  # wash stations
WASH_STATIONS = 10
WASH_MINUTES = 20
ROOM_FAMILY = 8  # class rooms
ROOMS = 20
SEATS = 12
FIRST_DAY = date(2031, 1, 6)
APPOINTMENT_DAYS = 1_000
CLASS_DAYS = 60
OPENS, CLOSES = time(8), time(20)
STEP = timedelta(hours=1)
SLOTS = CLOSES.hour - OPENS.hour  # hourly starts a day
GOAL = 0.5  # a hold of two units at least half as fast as a hold of one
BURST_DAY = FIRST_DAY + timedelta(days=CLASS_DAYS + 7)  # a day the seat holds never touch


@dataclass(frozen=True)
class Catalogues:
    single: Catalogue  # stylists doing a cut
    pools: Catalogue  # stylists doing a cut and wash, wash stations in pool 2
    classes: Catalogue  # rooms of 12 seats holding a class


def _grid(conn: psycopg.Connection[Any], name: str, family: int, resources: int) -> Catalogue:
    """A UTC location whose numbered resources all perform one 60-minute service on an hourly
    grid, 08:00-20:00 every day."""
    return seed_slot_grid(
        conn,
        name=name,
        resources=resources,
        family=family,
        step=STEP,
        opens=OPENS,
        closes=CLOSES,
        zone="UTC",
    )


def seed(database_url: str) -> Catalogues:
    with psycopg.connect(database_url) as conn:
        # the spread holds' customers (the SQL engine family makes the same ones): a hold costs
        # no customer insert
        conn.execute(
            "insert into booking.customers (subject)"
            " select 'bench-' || n from generate_series(1, %s) n on conflict do nothing",
            (sql_engine.SPREAD_CUSTOMERS,),
        )
        single = _grid(conn, "Bench units: cut", SINGLE_FAMILY, STYLISTS)
        pools = _grid(conn, "Bench units: cut and wash", POOLS_FAMILY, STYLISTS)
        classes = _grid(conn, "Bench units: classes", ROOM_FAMILY, ROOMS)
        with conn.transaction(), conn.cursor() as cur:
            wash = [numbered_uuid(WASH_FAMILY, n + 1) for n in range(WASH_STATIONS)]
            cur.executemany(
                "insert into booking.resources (id, location_id, kind, name)"
                " values (%s, %s, 'equipment', %s)",
                [(w, pools.location_id, f"Wash station {i + 1}") for i, w in enumerate(wash)],
            )
            cur.executemany(
                "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
                " values (%s, %s, %s, booking.timerange(%s::time, %s::time))",
                [(pools.location_id, w, d, OPENS, CLOSES) for w in wash for d in range(1, 8)],
            )
            cur.execute(
                "insert into booking.service_pools (location_id, service_id, pool, name,"
                " starts_after, lasts) values (%s, %s, 2, 'wash station', '0', %s)",
                (pools.location_id, pools.service_id, timedelta(minutes=WASH_MINUTES)),
            )
            cur.executemany(
                "insert into booking.service_resources"
                " (location_id, service_id, resource_id, preference, pool)"
                " values (%s, %s, %s, %s, 2)",
                [(pools.location_id, pools.service_id, w, i + 1) for i, w in enumerate(wash)],
            )
            cur.execute(
                "update booking.resources set kind = 'room', capacity = %s where location_id = %s",
                (SEATS, classes.location_id),
            )
        conn.execute("analyze")
        conn.commit()
    return Catalogues(single, pools, classes)


def _spread(cat: Catalogue, family: int, resources: int, days: int) -> dict[str, str]:
    """bench/sql/hold_spread.sql's -D values: a random named resource, day and hourly start."""
    return {
        "service": str(cat.service_id),
        "customers": str(sql_engine.SPREAD_CUSTOMERS),
        "family": str(family),
        "resources": str(resources),
        "days": str(days),
        "slots": str(SLOTS),
        "base": str(int(cat.start(FIRST_DAY, OPENS).timestamp())),
        "step": str(int(STEP.total_seconds())),
    }


def _outcomes(database_url: str, cat: Catalogue) -> tuple[int, int, int]:
    """(holds taken, conflicts, units taken) at a location."""
    with psycopg.connect(database_url) as conn:
        row: Any = conn.execute(
            "select (select count(*) from booking.reservations r where r.location_id = %(l)s"
            "        and r.status = 'held'),"
            "       (select count(*) from booking.conflicts c where c.location_id = %(l)s),"
            "       (select count(*) from booking.units u where u.location_id = %(l)s"
            "        and u.status = 'held')",
            {"l": cat.location_id},
        ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


@dataclass(frozen=True)
class Burst:
    """1,000 connections asking for one seat of one session at the same moment."""

    connections: int
    statuses: dict[int, int]
    unanswered: int
    last_answer_s: float
    seats_taken: list[int]


def _class_burst(database_url: str, classes: Catalogue, connections: int) -> Burst:
    start = classes.start(BURST_DAY, time(18))
    room = classes.resource_ids[0]
    gw = Gateway(database_url)
    try:
        workload = {
            "host": f"127.0.0.1:{gw.port}",
            "secret": Settings.from_env().jwt_secret,
            "users": 500,
            "kind": "hold",
            "service_id": str(classes.service_id),
            "start": start.isoformat(),
            "resource_id": str(room),
        }
        result = loadgen(burst_plan(connections, workload), timeout=300)
    finally:
        gw.close()
    statuses: dict[int, int] = {}
    for status in result["statuses"]:
        statuses[status] = statuses.get(status, 0) + 1
    with psycopg.connect(database_url) as conn:
        seats = [
            int(r[0])
            for r in conn.execute(
                "select u.seat from booking.units u where u.location_id = %s and u.resource_id = %s"
                " and lower(u.occupied) = %s and u.status = 'held' order by u.seat",
                (classes.location_id, room, start),
            )
        ]
    finished = result["finished_at"]
    return Burst(
        connections=connections,
        statuses=dict(sorted(statuses.items())),
        unanswered=int(result["errors"]) + connections - len(result["statuses"]),
        last_answer_s=max(finished) if finished else float("nan"),
        seats_taken=seats,
    )


def run(database_url: str, load: Load) -> Section:
    cats = seed(database_url)
    results: list[Figures] = []

    def bench(name: str, what: str, defines: dict[str, str]) -> Figures:
        figures = run_script(database_url, name, what, "hold_spread.sql", load, defines)
        print(f"  {name:<20} {figures.tps:>9.0f} tps  avg {figures.latency_avg_ms:.2f} ms")
        results.append(figures)
        return figures

    single = bench(
        "hold, one unit",
        f"a stylist, random slot of {STYLISTS * APPOINTMENT_DAYS * SLOTS:,}",
        _spread(cats.single, SINGLE_FAMILY, STYLISTS, APPOINTMENT_DAYS),
    )
    pools = bench(
        "hold, two units",
        f"a stylist + a wash station (first {WASH_MINUTES} min), random slot",
        _spread(cats.pools, POOLS_FAMILY, STYLISTS, APPOINTMENT_DAYS),
    )
    seats = bench(
        "hold, one seat",
        f"a seat of {SEATS}, random session of {ROOMS * CLASS_DAYS * SLOTS:,}",
        _spread(cats.classes, ROOM_FAMILY, ROOMS, CLASS_DAYS),
    )
    outcomes = {
        name: _outcomes(database_url, cat)
        for name, cat in (("single", cats.single), ("pools", cats.pools), ("seats", cats.classes))
    }
    burst_size = int(os.environ.get("BENCH_UNITS_BURST", "1000"))
    print(f"  class over HTTP: {burst_size:,} connections at once", flush=True)
    crowd = _class_burst(database_url, cats.classes, burst_size)
    print(
        f"  answers {crowd.statuses}, unanswered {crowd.unanswered}, seats {crowd.seats_taken},"
        f" last answer {crowd.last_answer_s:.2f} s",
        flush=True,
    )
    return Section(
        title="Units", markdown=_report(results, single, pools, seats, outcomes, crowd, load)
    )


def _report(
    results: list[Figures],
    single: Figures,
    pools: Figures,
    seats: Figures,
    outcomes: dict[str, tuple[int, int, int]],
    crowd: Burst,
    load: Load,
) -> str:
    rows = [
        [
            f.name,
            f.what,
            f"{f.tps:,.0f}",
            f"{f.latency_avg_ms:.2f}",
            f"{f.latency_p99_ms:.2f}",
            f"{f.tps / single.tps:.2f}",
        ]
        for f in results
    ]
    header = ["benchmark", "what", "tps", "avg ms", "p99 ms", "x one unit"]
    pools_ratio = pools.tps / single.tps
    held, conflicts, units = outcomes["seats"]
    five_xx = sum(n for status, n in crowd.statuses.items() if status >= 500)
    winners = crowd.statuses.get(201, 0)
    exact = winners == SEATS and crowd.seats_taken == list(range(1, SEATS + 1))
    notes = [
        f"- **Multi-resource hold / one-unit hold = {pools_ratio:.2f}** (goal >= {GOAL}: "
        f"{'meets' if pools_ratio >= GOAL else 'misses'} it). Two-unit holds: "
        f"{outcomes['pools'][0]:,} taken ({outcomes['pools'][2]:,} units), "
        f"{outcomes['pools'][1]:,} conflicts; one-unit holds: {outcomes['single'][0]:,} taken, "
        f"{outcomes['single'][1]:,} conflicts.",
        f"- **Seat holds / one-unit holds = {seats.tps / single.tps:.2f}**: {held:,} seats held "
        f"({units:,} units) in {ROOMS * CLASS_DAYS * SLOTS:,} sessions of {SEATS}, "
        f"{conflicts:,} conflicts (a full session).",
        f"- Class over HTTP: {crowd.connections:,} connections ask for one seat of one "
        f"{SEATS}-seat session at the same moment: answers {crowd.statuses}, "
        f"{crowd.unanswered} without an answer, {five_xx} 5xx; **{winners} winners** "
        f"(seats taken afterwards: {len(crowd.seats_taken)}, "
        f"{'exactly seats 1-' + str(SEATS) if exact else crowd.seats_taken}); "
        f"the last answer came **{crowd.last_answer_s:.2f} s** after the start.",
        f"- Load: pgbench -n -M prepared -c {load.clients} -j {load.threads} -T {load.seconds} "
        "per row (bench/sql/hold_spread.sql), one row after another; failed transactions: "
        f"{sum(f.failed for f in results)}. HTTP: `booking serve --workers 2` as in the HTTP "
        "gateway family.",
    ]
    return "\n".join([table(header, rows), "", *notes])
