"""A hundred real connections race for one slot under each conflict strategy: every racer gets an
answer (no exception), the strategy's documented outcome holds, and no two live reservations of a
resource ever overlap."""

from __future__ import annotations

import json
from datetime import date, time
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection

from testkit.catalogue import seed_catalogue
from testkit.throwaway_postgres import ThrowawayPostgres
from tests.support.overlaps import overlapping_live_pairs
from tests.support.racing import race

RACERS = 100
DAY = date(2031, 9, 1)

HOLD_SQL = """
select api.create_hold_atomic(%(slot)s, %(user)s, %(service)s, %(start)s, %(end)s, null,
                              %(session)s, %(resource)s)
"""


@pytest.mark.parametrize(
    "strategy",
    [
        "first_come_first_serve",
        "last_wins",
        "priority_based",
        "rollback_all",
        "consensus",
        "arbitration",
        "admin_intervention",
    ],
)
async def test_hundred_racers_keep_the_invariant_under_each_strategy(
    big_server: ThrowawayPostgres, strategy: str
) -> None:
    url = big_server.url("booking")
    with psycopg.connect(url) as conn:
        cat = seed_catalogue(conn, name=f"race {strategy}", resources=2)
        conn.execute(
            "update booking.services set conflict_strategy = %s where id = %s",
            (strategy, cat.service_id),
        )
        conn.commit()
    start = cat.start(DAY, time(10))
    first = cat.resource_ids[0]

    async def hold(i: int, conn: AsyncConnection[Any]) -> dict[str, Any]:
        cur = await conn.execute(
            HOLD_SQL,
            {
                "slot": cat.slot_id(start),
                "user": f"{strategy}-racer-{i}",
                "service": cat.service_id,
                "start": start,
                "end": cat.end(start),
                "session": f"s-{i}",
                "resource": first,
            },
        )
        row = await cur.fetchone()
        assert row is not None
        result: dict[str, Any] = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        return result

    results = await race(url, RACERS, hold)

    successes = [r for r in results if r["success"]]
    refused = [r for r in results if not r["success"]]
    assert len(successes) + len(refused) == RACERS
    assert all(r.get("conflict_id") for r in refused), "every refusal carries its conflict"

    with psycopg.connect(url) as conn:
        assert overlapping_live_pairs(conn, cat.location_id) == 0
        live_on_slot = conn.execute(
            "select count(*) from booking.reservations where location_id = %s and resource_id = %s"
            " and status in ('held','confirmed') and starts_at = %s",
            (cat.location_id, first, start),
        ).fetchone()
        conflicts = conn.execute(
            "select count(*), count(*) filter (where status = 'open'),"
            " count(*) filter (where status = 'awaiting_confirmation'),"
            " count(*) filter (where strategy = %s)"
            " from booking.conflicts where location_id = %s",
            (strategy, cat.location_id),
        ).fetchone()
        preempted = conn.execute(
            "select count(*) from booking.reservations"
            " where location_id = %s and status = 'preempted'",
            (cat.location_id,),
        ).fetchone()
    assert live_on_slot is not None and conflicts is not None and preempted is not None
    total_conflicts, open_conflicts, awaiting, with_strategy = conflicts
    assert total_conflicts == with_strategy, "every conflict names the strategy applied"
    assert total_conflicts == sum(1 for r in results if r.get("conflict_id")), (
        "every conflict a racer met is recorded, and no other"
    )

    if strategy in ("first_come_first_serve", "priority_based"):
        # equal priorities: nobody preempts anybody
        assert len(successes) == 1 and live_on_slot[0] == 1 and preempted[0] == 0
    elif strategy == "last_wins":
        assert live_on_slot[0] == 1
        assert preempted[0] == len(successes) - 1, "each later winner preempted exactly one hold"
    elif strategy == "rollback_all":
        assert live_on_slot[0] <= 1
        assert preempted[0] >= 1, "the contested hold was dropped"
        assert all(r["outcome"] in ("rolled_back", "refused") for r in refused)
    elif strategy == "consensus":
        assert len(successes) == 1 and awaiting == RACERS - 1
        assert all(r["offered"] for r in refused)
    elif strategy == "arbitration":
        assert len(successes) == RACERS, "arbitration placed everyone somewhere"
        assert {r.get("outcome") for r in successes} <= {"other_resource", "nearest_time", None}
        assert sum(1 for r in successes if r.get("outcome") is None) == 1, (
            "one racer got the slot itself"
        )
    elif strategy == "admin_intervention":
        assert len(successes) == 1 and open_conflicts == RACERS - 1
