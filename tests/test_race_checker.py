"""A randomized race checker in the spirit of Jepsen: client processes race holds, conversions,
direct bookings, releases, cancellations and reschedules on a small catalogue over many real
connections, record every outcome with its invoke and answer times, and the history is then
checked against the database (tests/support/history.py says exactly what is checked)."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date, time, timedelta

import psycopg

from testkit.catalogue import seed_catalogue
from testkit.throwaway_postgres import ThrowawayPostgres
from tests.support.history import Row, Workload, check, client_process, parse_history
from tests.support.overlaps import overlapping_live_pairs

PROCESSES = 4
CLIENTS_PER_PROCESS = 8  # 32 connections
SECONDS = 20.0
FIRST_DAY = date(2031, 9, 3)
DAYS = 3
DURATION = timedelta(hours=1)
BUFFER_AFTER = timedelta(minutes=15)
STARTS = [
    time(9, 0),
    time(9, 30),
    time(10, 0),
    time(10, 30),
    time(11, 0),
    time(11, 30),
    time(12, 0),
    time(12, 30),
]


async def test_random_races_leave_a_history_the_database_explains(
    big_server: ThrowawayPostgres,
) -> None:
    url = big_server.url("booking")
    with psycopg.connect(url) as conn:
        cat = seed_catalogue(
            conn,
            name="Race checker",
            resources=3,
            duration=DURATION,
            slot_step=timedelta(minutes=30),
            opens=time(9),
            closes=time(14),
            buffer_after=BUFFER_AFTER,
            max_live_holds_per_customer=3,
        )
    starts = tuple(
        cat.start(FIRST_DAY + timedelta(days=d), t).isoformat() for d in range(DAYS) for t in STARTS
    )
    work = Workload(
        url=url,
        service_id=str(cat.service_id),
        resource_ids=tuple(str(r) for r in cat.resource_ids),
        starts=starts,
        duration_s=DURATION.total_seconds(),
        seconds=SECONDS,
        clients_per_process=CLIENTS_PER_PROCESS,
    )
    seed = random.randrange(1 << 20)
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        chunks = await asyncio.gather(
            *(
                loop.run_in_executor(pool, client_process, work, n, seed + n)
                for n in range(PROCESSES)
            )
        )
    history = parse_history(chunks)

    with psycopg.connect(url) as conn:
        rows = {
            str(r[0]): Row(str(r[0]), r[1], str(r[2]), r[3])
            for r in conn.execute(
                "select id, status, resource_id, starts_at from booking.reservations"
                " where location_id = %s",
                (cat.location_id,),
            ).fetchall()
        }
        assert overlapping_live_pairs(conn, cat.location_id) == 0

    verdict = check(
        history, rows, work.resource_ids, lambda start: (start, start + DURATION + BUFFER_AFTER)
    )
    outcomes = Counter(f"{op.kind}:{op.outcome}" for op in history)
    print(
        f"race checker (seed {seed}): {len(history)} operations {dict(outcomes)};"
        f" checked {dict(verdict.checked)}"
    )
    assert verdict.violations == [], f"seed {seed}: " + "\n".join(verdict.violations[:20])
    # the run must have raced for real: many grants, many refusals, every kind of call
    assert verdict.checked["grants"] > 100 and verdict.checked["refusals"] > 100, verdict.checked
    for kind in ("hold", "book", "convert", "release", "cancel", "reschedule"):
        assert outcomes[f"{kind}:ok"] > 0, outcomes
    assert not any(op.outcome == "unknown" for op in history)


def test_the_checker_flags_each_kind_of_violation() -> None:
    """The checker is not vacuous: a fabricated history with one violation of each kind."""
    from datetime import UTC, datetime

    from tests.support.history import Op

    at = datetime(2031, 9, 3, 9, tzinfo=UTC)
    r1, r2 = "r1", "r2"
    place = {"resource_id": r1, "start_time": at.isoformat()}
    history = [
        # A is booked and acknowledged at t=10, B is granted the same time at t=20..30
        Op(0, 0, "book", 0, 10, "ok", "A", r1, at.isoformat(), {"success": True, **place}),
        Op(0, 1, "hold", 20, 30, "ok", "B", r1, at.isoformat(), {"success": True, **place}),
        # C was acknowledged but the database lost it
        Op(
            0,
            2,
            "book",
            0,
            5,
            "ok",
            "C",
            r2,
            (at + timedelta(hours=3)).isoformat(),
            {
                "success": True,
                "resource_id": r2,
                "start_time": (at + timedelta(hours=3)).isoformat(),
            },
        ),
        # a refusal for r2 at 13:00 where nothing ever was
        Op(
            0,
            3,
            "hold",
            40,
            50,
            "conflict",
            None,
            r2,
            (at + timedelta(hours=4)).isoformat(),
            {"success": False, "conflict_type": "HOLD_CONFLICT"},
        ),
        # a cancel acknowledged, but the database still has the booking confirmed
        Op(0, 0, "cancel", 60, 70, "ok", "A", None, None, {"success": True, "status": "cancelled"}),
    ]
    rows = {"A": Row("A", "confirmed", r1, at), "B": Row("B", "held", r1, at)}
    verdict = check(history, rows, (r1, r2), lambda s: (s, s + DURATION))
    text = "\n".join(verdict.violations)
    assert "hold B granted r1" in text
    assert "acknowledged book C is missing" in text
    assert "hold refused r2" in text
    assert "A: the client was told cancelled, the database says confirmed" in text
    assert len(verdict.violations) == 4, text
