"""The live-hold cap holds when a customer accepts many offered alternatives at the same moment.

Under the consensus strategy a refused hold waits with an offered alternative; accepting it creates
a live hold. Ten connections accept ten offers of one customer at once: no more than the cap may
succeed, whatever the interleaving.
"""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from typing import Any

import psycopg
from psycopg import AsyncConnection

from testkit.catalogue import seed_catalogue
from tests.support.racing import race

CAP = 3
OFFERS = 10
FIRST_DAY = date(2031, 10, 1)


def as_json(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = value if isinstance(value, dict) else json.loads(value)
    return result


async def test_ten_offers_accepted_at_once_give_at_most_the_cap(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        cat = seed_catalogue(conn, name="cap race", resources=1, max_live_holds_per_customer=CAP)
        conn.execute(
            "update booking.services set conflict_strategy = 'consensus' where id = %s",
            (cat.service_id,),
        )
        days = [FIRST_DAY + timedelta(days=i) for i in range(OFFERS)]
        for day in days:  # someone else has booked 10:00 on each day
            conn.execute(
                "select api.create_booking_atomic(%s, %s, 'cap-blocker', '{}')",
                (cat.service_id, cat.start(day, time(10))),
            )
        conflict_ids = []
        for day in days:  # eve asks for each booked 10:00 and is offered another time
            row = conn.execute(
                "select api.create_hold_atomic(null, 'cap-eve', %s, %s, null, null, 's-eve')",
                (cat.service_id, cat.start(day, time(10))),
            ).fetchone()
            assert row is not None
            result = as_json(row[0])
            assert result["status"] == "awaiting_confirmation" and result["offered"]
            conflict_ids.append(result["conflict_id"])
        conn.commit()

    async def accept(i: int, conn: AsyncConnection[Any]) -> str:
        try:
            cur = await conn.execute("select api.confirm_conflict(%s, true)", (conflict_ids[i],))
        except psycopg.Error as e:
            return str(e.sqlstate)
        row = await cur.fetchone()
        assert row is not None
        return "held" if as_json(row[0])["success"] else "offer_taken"

    outcomes = await race(database_url, OFFERS, accept)

    assert outcomes.count("held") == CAP, outcomes
    assert outcomes.count("BK016") == OFFERS - CAP, outcomes
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select count(*) from booking.reservations r join booking.customers c"
            " on c.id = r.customer_id where c.subject = 'cap-eve' and r.status = 'held'"
            " and r.expires_at > now()"
        ).fetchone()
        waiting = conn.execute(
            "select count(*) from booking.conflicts where id = any(%s::uuid[])"
            " and status = 'awaiting_confirmation'",
            (conflict_ids,),
        ).fetchone()
    assert row is not None and row[0] == CAP, "eve holds exactly the cap"
    assert waiting is not None and waiting[0] == OFFERS - CAP, (
        "each refused acceptance leaves its offer waiting"
    )
