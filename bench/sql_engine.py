"""Benchmark family "SQL engine": the api.* functions driven by pgbench, against a ceiling.

The ceiling is a plain durable single-row insert from the same number of clients in the same run:
the machine is shared and noisy, so a figure means something only as a ratio to a baseline
measured alongside it. Every figure comes from one pgbench run of a script in bench/sql/.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from bench.pgbench import Figures, Load, run_script
from bench.report import Section, table
from testkit.catalogue import Catalogue, seed_catalogue, seed_slot_grid

SPREAD_FAMILY = 1  # resource ids 00000001-0000-4000-8000-<n>, rebuilt by hold_spread.sql
SPREAD_RESOURCES = 100
SPREAD_CUSTOMERS = 50_000
SPREAD_DAYS = 200  # 2031-04-01 .. 2031-10-17: all in summer time, so a day is 86,400 s
SPREAD_FIRST_DAY = date(2031, 4, 1)
SPREAD_STEP = timedelta(minutes=15)
SPREAD_OPENS, SPREAD_CLOSES = time(8), time(20)
SALON_DAY = date(2031, 4, 2)
GOAL = 0.5  # the goal: spread holds reach at least half the ceiling's rate
LAST: dict[str, Figures] = {}  # this run's figures by name, for the families that compare to them

SETUP_SQL = """
    create schema if not exists bench;
    create table if not exists bench.ceiling (
        id bigserial primary key, created_at timestamptz not null default now(), payload text);
    create table if not exists bench.ceiling_notify (
        id bigserial primary key, created_at timestamptz not null default now(), payload text);
"""


@dataclass(frozen=True)
class Catalogues:
    spread: Catalogue
    salon: Catalogue


def seed(database_url: str) -> Catalogues:
    """The ceiling's tables, a wide location for spread holds and a salon for the hot slot."""
    with psycopg.connect(database_url) as conn:
        conn.execute(SETUP_SQL)
        conn.commit()
        spread = seed_slot_grid(
            conn,
            name="Bench spread",
            resources=SPREAD_RESOURCES,
            family=SPREAD_FAMILY,
            step=SPREAD_STEP,
            opens=SPREAD_OPENS,
            closes=SPREAD_CLOSES,
        )
        # the spread holds come from many customers, as in life: a pool made up front, so a hold
        # costs no customer insert, and nobody nears the live-hold cap
        conn.execute(
            "insert into booking.customers (subject)"
            " select 'bench-' || n from generate_series(1, %s) n on conflict do nothing",
            (SPREAD_CUSTOMERS,),
        )
        salon = seed_catalogue(
            conn,
            name="Bench salon",
            resources=8,
            duration=timedelta(hours=1),
            buffer_after=timedelta(minutes=10),
        )
        # a realistic day: a dozen bookings spread over the salon's staff
        for n in range(12):
            start = salon.start(SALON_DAY, time(9 + n % 7))
            conn.execute(
                "select api.create_booking_atomic(%s, %s, %s, '{}'::jsonb, %s)",
                (salon.service_id, start, f"seed-{n}", salon.resource_ids[n % 8]),
            )
        conn.commit()
        # a production database has statistics; without them the planner guesses from empty tables
        conn.execute("analyze")
        conn.commit()
    return Catalogues(spread=spread, salon=salon)


def _epoch(at: datetime) -> str:
    return str(int(at.timestamp()))


class _Listener:
    """A LISTEN connection draining notifications while the NOTIFY benchmark runs, as the
    gateway's listener would."""

    def __init__(self, database_url: str, channel: str) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.conn.execute(f"listen {channel}")
        self.received = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drain, daemon=True)

    def _drain(self) -> None:
        while not self.stop.is_set():
            for _ in self.conn.notifies(timeout=0.2):
                self.received += 1

    def __enter__(self) -> _Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.conn.close()


def _outcomes(database_url: str, location: Catalogue) -> tuple[int, int]:
    """(holds taken, conflicts) at a location."""
    with psycopg.connect(database_url) as conn:
        row: Any = conn.execute(
            "select (select count(*) from booking.reservations r where r.location_id = %(l)s"
            "        and r.status = 'held'),"
            "       (select count(*) from booking.conflicts c where c.location_id = %(l)s)",
            {"l": location.location_id},
        ).fetchone()
    return int(row[0]), int(row[1])


def run(database_url: str, load: Load) -> Section:
    cats = seed(database_url)
    spread, salon = cats.spread, cats.salon
    results: list[Figures] = []

    def bench(name: str, what: str, script: str, defines: dict[str, str] | None = None) -> Figures:
        figures = run_script(database_url, name, what, script, load, defines)
        print(
            f"  {name:<16} {figures.tps:>9.0f} tps  avg {figures.latency_avg_ms:.2f} ms", flush=True
        )
        results.append(figures)
        LAST[name] = figures
        return figures

    ceiling = bench("ceiling", "plain durable single-row insert", "ceiling_insert.sql")
    with _Listener(database_url, "bench_notify") as listener:
        notify = bench(
            "insert+notify", "the same insert + pg_notify, one transaction", "insert_notify.sql"
        )
    first_start = datetime.combine(SPREAD_FIRST_DAY, SPREAD_OPENS, tzinfo=ZoneInfo(spread.zone))
    slots = int((timedelta(hours=SPREAD_CLOSES.hour - SPREAD_OPENS.hour)) / SPREAD_STEP)
    spread_figures = bench(
        "hold spread",
        f"create_hold_atomic, random slot of {SPREAD_RESOURCES * SPREAD_DAYS * slots:,}",
        "hold_spread.sql",
        {
            "service": str(spread.service_id),
            "customers": str(SPREAD_CUSTOMERS),
            "family": str(SPREAD_FAMILY),
            "resources": str(SPREAD_RESOURCES),
            "days": str(SPREAD_DAYS),
            "slots": str(slots),
            "base": _epoch(first_start),
            "step": str(int(SPREAD_STEP.total_seconds())),
        },
    )
    held, spread_conflicts = _outcomes(database_url, spread)
    hot_start = salon.start(SALON_DAY, time(16))
    bench(
        "hold hot slot",
        "create_hold_atomic, all clients on one slot",
        "hold_hot.sql",
        {
            "service": str(salon.service_id),
            "resource": str(salon.resource_ids[0]),
            "start": _epoch(hot_start),
            "duration": str(int(salon.duration.total_seconds())),
        },
    )
    hot_held, hot_conflicts = _outcomes(database_url, salon)
    bench(
        "availability",
        "get_availability, 1 day, 8 staff",
        "availability_day.sql",
        {"service": str(salon.service_id), "day": SALON_DAY.isoformat()},
    )

    ratio = spread_figures.tps / ceiling.tps
    notify_ratio = notify.tps / ceiling.tps
    rows = [
        [
            f.name,
            f.what,
            f"{f.tps:,.0f}",
            f"{f.latency_avg_ms:.2f}",
            f"{f.latency_p50_ms:.2f}",
            f"{f.latency_p99_ms:.2f}",
            f"{f.tps / ceiling.tps:.2f}",
        ]
        for f in results
    ]
    header = ["benchmark", "what", "tps", "avg ms", "p50 ms", "p99 ms", "x ceiling"]
    verdict = "meets" if ratio >= GOAL else "misses"
    notes = [
        f"- **hold/ceiling = {ratio:.2f}** (goal >= {GOAL}: {verdict} it). "
        f"Spread holds: {held:,} taken, {spread_conflicts:,} conflicts.",
        f"- NOTIFY costs: insert+notify runs at {notify_ratio:.2f} x the plain insert "
        f"(a listener drained {listener.received:,} notifications meanwhile); "
        f"hold/(insert+notify) = {spread_figures.tps / notify.tps:.2f}. Every notifying "
        "commit is serialized, WAL flush included; a hold holds no lock across its commit and "
        "notifies only when no other committing transaction is notifying, so holds commit in "
        "groups (docs/ARCHITECTURE.md, 'Event order').",
        f"- Hot slot: {hot_held:,} hold taken, {hot_conflicts:,} conflicts, each recorded and "
        "answered with alternatives.",
        f"- Load: pgbench -n -M prepared -c {load.clients} -j {load.threads} -T {load.seconds} "
        "per row, one row after another; failed transactions: "
        f"{sum(f.failed for f in results)}.",
    ]
    markdown = "\n".join([table(header, rows), "", *notes])
    return Section(title="SQL engine", markdown=markdown)
