"""Benchmark family "sharding by location": holds on two shards at once against holds on one.

Each shard is a PostgreSQL server of its own (the run's server and a second one started here,
durable defaults, migrated) holding one location of its own. The same spread-holds script
(bench/sql/hold_spread.sql) runs with the run's client count against one shard alone, then
against both shards at once with that many clients each, as a second shard would be added with
its own clients. The scaling ratio is the two shards' total over the one shard's throughput:
close to 2 when each server has cores of its own, close to 1 when they share the same cores
(this machine: both servers and both pgbench processes on the same two cores).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg

from bench.pgbench import Figures, Load, run_script
from bench.report import Section, table
from gateway.cli.migrate import migrate
from testkit.catalogue import Catalogue, seed_slot_grid
from testkit.throwaway_postgres import ThrowawayPostgres

FAMILY = 45  # resource ids 00000045-0000-4000-8000-<n>, rebuilt by hold_spread.sql
RESOURCES = 100
CUSTOMERS = 20_000
DAYS = 200
FIRST_DAY = date(2031, 4, 1)  # summer time throughout: a day is 86,400 s
STEP = timedelta(minutes=15)
OPENS, CLOSES = time(8), time(20)


def _seed(database_url: str, name: str) -> Catalogue:
    """A location of its own on this shard, and the customers the holds come from."""
    with psycopg.connect(database_url) as conn:
        location = seed_slot_grid(
            conn,
            name=name,
            resources=RESOURCES,
            family=FAMILY,
            step=STEP,
            opens=OPENS,
            closes=CLOSES,
        )
        conn.execute(
            "insert into booking.customers (subject)"
            " select 'bench-' || n from generate_series(1, %s) n on conflict do nothing",
            (CUSTOMERS,),
        )
        conn.commit()
    return location


def _defines(location: Catalogue) -> dict[str, str]:
    first = datetime.combine(FIRST_DAY, OPENS, tzinfo=ZoneInfo(location.zone))
    slots = int(timedelta(hours=CLOSES.hour - OPENS.hour) / STEP)
    return {
        "service": str(location.service_id),
        "customers": str(CUSTOMERS),
        "family": str(FAMILY),
        "resources": str(RESOURCES),
        "days": str(DAYS),
        "slots": str(slots),
        "base": str(int(first.timestamp())),
        "step": str(int(STEP.total_seconds())),
    }


def _second_shard() -> ThrowawayPostgres:
    server = ThrowawayPostgres()
    server.init().start()
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("create database booking")
    migrate(server.url("booking"))
    return server


def run(database_url: str, load: Load) -> Section:
    second = _second_shard()
    try:
        urls = [database_url, second.url("booking")]
        defines = [_defines(_seed(url, f"Shard bench {n + 1}")) for n, url in enumerate(urls)]

        def bench(n: int, name: str) -> Figures:
            figures = run_script(
                urls[n], name, "create_hold_atomic", "hold_spread.sql", load, defines[n]
            )
            print(f"  {name:<22} {figures.tps:>9.0f} tps  avg {figures.latency_avg_ms:.2f} ms")
            return figures

        alone = bench(0, "one shard")
        with ThreadPoolExecutor(2) as pool:
            both = list(pool.map(bench, [0, 1], ["two shards: shard 1", "two shards: shard 2"]))
    finally:
        second.destroy()

    total = sum(f.tps for f in both)
    ratio = total / alone.tps
    rows = [
        ["one shard", str(load.clients), f"{alone.tps:,.0f}", f"{alone.latency_avg_ms:.2f}",
         f"{alone.latency_p99_ms:.2f}"],
        *(
            [f"two shards: shard {n + 1}", str(load.clients), f"{f.tps:,.0f}",
             f"{f.latency_avg_ms:.2f}", f"{f.latency_p99_ms:.2f}"]
            for n, f in enumerate(both)
        ),
        ["two shards: total", str(2 * load.clients), f"{total:,.0f}", "", ""],
    ]  # fmt: skip
    cores = os.cpu_count() or 1
    notes = [
        f"- **Scaling ratio, two shards / one: {ratio:.2f}** (target >= 1.6 with each shard on "
        f"cores of its own). Here both servers and both pgbench processes share {cores} "
        f"core{'s' if cores != 1 else ''}: the run is CPU-bound, so the second shard adds "
        "clients and servers but no CPU, and the ratio shows the cost of sharing, not what a "
        "second machine gives.",
        "- Each shard holds one location of its own; every hold is one transaction on one "
        "shard, as the gateway's router sends it (tests/test_shards.py checks that no hold "
        "reaches another shard), so nothing is shared between shards but the machine.",
    ]
    markdown = "\n".join(
        [
            f"Spread holds (`hold_spread.sql`), {load.seconds} s per run, {load.clients} clients "
            "per shard; one shard alone, then two shards at once (two PostgreSQL servers, one "
            "location each).",
            "",
            table(["run", "clients", "holds/s", "avg ms", "p99 ms"], rows),
            "",
            *notes,
        ]
    )
    return Section("Sharding by location: holds on two shards vs one", markdown)
