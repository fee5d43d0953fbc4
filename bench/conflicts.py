"""Benchmark family "Conflict cost": what a lost race costs next to a won one, by location size.

At locations of 8, 100 and 1,000 staff (09:00-17:00 every day, a 60-minute service on a 15-minute
grid, 10 minutes of buffer after, a day already booked one and a half times per staff member), one
session times `api.create_hold_atomic` for a free slot (a winning hold) and for a slot another
customer holds (a losing hold: the conflict is recorded and answered with five alternatives).
Each call runs in its own transaction, which is then rolled back, so every call sees the same
location and the figure is the function's own work (a commit costs both the same).
"""

from __future__ import annotations

import json
import statistics
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg

from bench.pgbench import Load
from bench.report import Section, table
from testkit.catalogue import Catalogue, seed_catalogue

SIZES = (8, 100, 1000)
DAY = date(2031, 6, 4)
HOT = time(16)
ROUNDS = 40
WARMUP = 5
HOLD_SQL = "select api.create_hold_atomic(null, %s, %s, %s, null, null, 'bench-conflict', %s)"


@dataclass(frozen=True)
class Costs:
    resources: int
    winning_ms: float
    losing_ms: float
    alternatives: int

    @property
    def ratio(self) -> float:
        return self.losing_ms / self.winning_ms


def seed(database_url: str, sizes: tuple[int, ...] = SIZES) -> list[Catalogue]:
    """A location per size, its day booked, and its hot slot held (for a day) by one customer."""
    locations = []
    with psycopg.connect(database_url) as conn:
        for size in sizes:
            cat = seed_catalogue(
                conn,
                name=f"Bench conflicts {size}",
                resources=size,
                duration=timedelta(hours=1),
                buffer_after=timedelta(minutes=10),
                hold_ttl=timedelta(days=1),
            )
            others = cat.resource_ids[1:] or cat.resource_ids
            for n in range(size * 3 // 2):  # bookings at 09:00-15:00 of the other staff members
                start = cat.start(DAY, time(9 + n % 7))
                conn.execute(
                    "select api.create_booking_atomic(%s, %s, %s, '{}'::jsonb, %s)",
                    (cat.service_id, start, f"bench-conflict-booked-{n}", others[n % len(others)]),
                )
            taken: Any = conn.execute(
                HOLD_SQL,
                ("bench-conflict-holder", cat.service_id, hot_start(cat), cat.resource_ids[0]),
            ).fetchone()
            assert _result(taken[0])["success"], taken
            conn.commit()
            locations.append(cat)
        conn.execute("analyze")
        conn.commit()
    return locations


def hot_start(cat: Catalogue) -> datetime:
    return cat.start(DAY, HOT)


def _result(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = value if isinstance(value, dict) else json.loads(value)
    return result


def _timed_hold(
    conn: psycopg.Connection[Any], cat: Catalogue, start: datetime, subject: str
) -> tuple[float, dict[str, Any]]:
    began = clock.perf_counter()
    row: Any = conn.execute(
        HOLD_SQL, (subject, cat.service_id, start, cat.resource_ids[0])
    ).fetchone()
    elapsed = (clock.perf_counter() - began) * 1000
    conn.rollback()
    return elapsed, _result(row[0])


def measure(database_url: str, cat: Catalogue, rounds: int = ROUNDS) -> Costs:
    """Median ms of a winning and of a losing hold at one location, in one session."""
    free = cat.start(DAY, time(13))  # the first staff member has only the hot slot
    winning, losing, offered = [], [], 0
    with psycopg.connect(database_url) as conn:
        for n in range(WARMUP + rounds):
            won_ms, won = _timed_hold(conn, cat, free, f"bench-conflict-winner-{n}")
            lost_ms, lost = _timed_hold(conn, cat, hot_start(cat), f"bench-conflict-loser-{n}")
            assert won["success"] and not lost["success"], (won, lost)
            if n >= WARMUP:
                winning.append(won_ms)
                losing.append(lost_ms)
                offered = len(lost["alternatives"])
    return Costs(
        resources=len(cat.resource_ids),
        winning_ms=statistics.median(winning),
        losing_ms=statistics.median(losing),
        alternatives=offered,
    )


def run(database_url: str, load: Load) -> Section:
    results = []
    for cat in seed(database_url):
        costs = measure(database_url, cat)
        print(
            f"  {costs.resources:>5} staff  win {costs.winning_ms:.2f} ms"
            f"  lose {costs.losing_ms:.2f} ms  ({costs.ratio:.1f}x)",
            flush=True,
        )
        results.append(costs)
    rows = [
        [
            f"{c.resources:,}",
            f"{c.winning_ms:.2f}",
            f"{c.losing_ms:.2f}",
            f"{c.ratio:.1f}",
            str(c.alternatives),
        ]
        for c in results
    ]
    header = ["staff", "winning hold ms", "losing hold ms", "losing / winning", "alternatives"]
    notes = [
        f"- One session, medians of {ROUNDS} calls each after {WARMUP} warm-up calls; every call "
        "is rolled back, so each sees the same booked day and the same held hot slot.",
        "- A losing hold records its conflict and offers five alternatives found by the "
        "nearest-first search (booking.nearest_free_starts): starts outward from the requested "
        "time, staff in preference order, stopping at five.",
    ]
    return Section(title="Conflict cost", markdown="\n".join([table(header, rows), "", *notes]))
