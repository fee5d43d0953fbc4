"""Benchmark family "write path scaling": does the hold path use the cores, and does its cost stay
flat as live holds pile up?

- Clients: spread holds and the plain durable insert at 1 client and at the run's client count,
  in the same run. A plain insert gains from more clients (commits overlap, group commit, both
  cores busy); holds should gain as much.
- Live holds: spread holds at a location holding 0, 10,000 and 100,000 live holds. Statistics are
  taken once, with the location empty (as on a fresh deployment, or with autovacuum late), so a
  plan that depends on lucky statistics shows up as a cost that grows with the live holds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg

from bench import sql_engine
from bench.pgbench import Figures, Load, run_script
from bench.report import Section, table
from testkit.catalogue import Catalogue, seed_slot_grid

CROWD_FAMILY = 3  # resource ids 00000003-0000-4000-8000-<n>, rebuilt by hold_spread.sql
CROWD_RESOURCES = 100
CROWD_DAYS = 100
CROWD_FIRST_DAY = date(2031, 5, 1)  # summer time throughout: a day is 86,400 s
CROWD_OPENS, CROWD_CLOSES = time(8), time(20)
CROWD_STEP = timedelta(minutes=15)
PARKED_FROM = datetime(2033, 1, 1, tzinfo=ZoneInfo("UTC"))  # where the parked live holds lie
LEVELS = (0, 10_000, 100_000)

# Live holds parked far from the benchmark's days: back to back on every resource, around the
# clock, expiring in a day. Written straight into the ledger with triggers off (a seed, not a
# workload: no events, no audit rows), so each reservation's one unit is written with it.
PARK_SQL = """
with parked as (
insert into booking.reservations (location_id, resource_id, service_id, customer_id, starts_at,
                                  ends_at, occupied, status, expires_at, session_id, slot_id, units)
select %(location)s, r.id, %(service)s, c.id, s.t, s.t + %(step)s, tstzrange(s.t, s.t + %(step)s),
       'held', now() + interval '1 day', 'parked', 'parked', 1
from generate_series(%(first)s::bigint, %(last)s::bigint) n
cross join lateral (select %(from)s::timestamptz
                           + (n / %(resources)s) * %(step)s::interval as t) s
join booking.resources r on r.location_id = %(location)s
 and r.id = (lpad(%(family)s::text, 8, '0') || '-0000-4000-8000-'
             || lpad((n %% %(resources)s + 1)::text, 12, '0'))::uuid
cross join (select id from booking.customers where subject = 'parked-holds') c
returning location_id, id, resource_id, occupied, status, expires_at)
insert into booking.units (location_id, reservation_id, resource_id, occupied, status, expires_at)
select location_id, id, resource_id, occupied, status, expires_at from parked
"""


def _crowd(database_url: str) -> Catalogue:
    with psycopg.connect(database_url) as conn:
        crowd = seed_slot_grid(
            conn,
            name="Bench crowd",
            resources=CROWD_RESOURCES,
            family=CROWD_FAMILY,
            step=CROWD_STEP,
            opens=CROWD_OPENS,
            closes=CROWD_CLOSES,
        )
        conn.execute(
            "insert into booking.customers (subject) values ('parked-holds') on conflict do nothing"
        )
        conn.commit()
        conn.execute("analyze")  # statistics of an empty location, never refreshed below
        conn.commit()
    return crowd


def _park(database_url: str, crowd: Catalogue, have: int, want: int) -> None:
    if want <= have:
        return
    with psycopg.connect(database_url) as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute(
            PARK_SQL,
            {
                "location": crowd.location_id,
                "service": crowd.service_id,
                "step": CROWD_STEP,
                "first": have,
                "last": want - 1,
                "from": PARKED_FROM,
                "resources": CROWD_RESOURCES,
                "family": CROWD_FAMILY,
            },
        )
        conn.commit()


def _hold_defines(crowd: Catalogue) -> dict[str, str]:
    first = datetime.combine(CROWD_FIRST_DAY, CROWD_OPENS, tzinfo=ZoneInfo(crowd.zone))
    slots = int(timedelta(hours=CROWD_CLOSES.hour - CROWD_OPENS.hour) / CROWD_STEP)
    return {
        "service": str(crowd.service_id),
        "customers": str(sql_engine.SPREAD_CUSTOMERS),
        "family": str(CROWD_FAMILY),
        "resources": str(CROWD_RESOURCES),
        "days": str(CROWD_DAYS),
        "slots": str(slots),
        "base": str(int(first.timestamp())),
        "step": str(int(CROWD_STEP.total_seconds())),
    }


def run(database_url: str, load: Load) -> Section:
    """Run after the SQL engine family (it seeds the customers and the ceiling's table)."""
    one = replace(load, clients=1, threads=1)
    crowd = _crowd(database_url)
    defines = _hold_defines(crowd)

    def bench(name: str, what: str, script: str, at: Load) -> Figures:
        figures = run_script(database_url, name, what, script, at, defines)
        print(f"  {name:<26} {figures.tps:>9.0f} tps  avg {figures.latency_avg_ms:.2f} ms")
        return figures

    insert_1 = bench("ceiling, 1 client", "plain durable insert", "ceiling_insert.sql", one)
    insert_n = bench(f"ceiling, {load.clients} clients", "the same", "ceiling_insert.sql", load)
    hold_1 = bench("hold spread, 1 client", "create_hold_atomic", "hold_spread.sql", one)
    by_level: list[tuple[int, Figures]] = []
    have = 0
    for level in LEVELS:
        _park(database_url, crowd, have, level)
        have = level
        by_level.append(
            (
                level,
                bench(
                    f"hold spread, {level:,} live",
                    f"{load.clients} clients",
                    "hold_spread.sql",
                    load,
                ),
            )
        )
    hold_n = by_level[0][1]

    rows = [
        ["1", f"{insert_1.tps:,.0f}", f"{hold_1.tps:,.0f}", f"{hold_1.tps / insert_1.tps:.2f}"],
        [
            str(load.clients),
            f"{insert_n.tps:,.0f}",
            f"{hold_n.tps:,.0f}",
            f"{hold_n.tps / insert_n.tps:.2f}",
        ],
    ]
    clients_table = table(["clients", "insert tps", "hold tps", "hold / insert"], rows)
    base_cost = 1.0 / hold_n.tps
    level_rows = [
        [
            f"{level:,}",
            f"{f.tps:,.0f}",
            f"{f.latency_avg_ms:.2f}",
            f"{f.latency_p99_ms:.2f}",
            f"{(1.0 / f.tps) / base_cost:.2f}",
        ]
        for level, f in by_level
    ]
    levels_table = table(
        ["live holds at the location", "hold tps", "avg ms", "p99 ms", "cost / cost at 0"],
        level_rows,
    )
    notes = [
        f"- **Scaling with clients: holds {hold_n.tps / hold_1.tps:.2f}x from 1 to "
        f"{load.clients} clients** (goal >= 2.5); the plain insert "
        f"{insert_n.tps / insert_1.tps:.2f}x in the same run.",
        f"- **Cost at {LEVELS[-1]:,} live holds / at 0: "
        f"{(1.0 / by_level[-1][1].tps) / base_cost:.2f}** (goal <= 1.2). Statistics were taken "
        "with the location empty and never refreshed.",
        f"- Crowd location: {CROWD_RESOURCES} staff, {CROWD_DAYS} days of 15-minute slots; the "
        "live holds are parked on other days, so every benchmark hold still finds its slot free "
        "as often as at level 0.",
    ]
    markdown = "\n".join([clients_table, "", levels_table, "", *notes])
    return Section(title="Write path scaling", markdown=markdown)
