"""Benchmark family "read replicas": availability reads through the gateway with the primary alone,
then with one streaming replica (DATABASE_REPLICA_URLS), same run, same workload.

A primary and a hot standby of this family's own (the standby made with pg_basebackup), a salon
seeded on the primary, and a gateway (`booking serve`, one worker, no Redis) started twice: once on
the primary alone, once with the standby as a replica. The readers ask for a year of days with a
1-second cache, so most reads miss the cache and compute slots in a database: the figures compare
where that work lands (CPU seconds of the primary's and the standby's server processes) and what
the reader sees (throughput, latency), not cache speed. On one shared machine every process
competes for the same cores, so the replica cannot raise throughput here; what it shows is the
primary's load moving to the replica.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as wall
from typing import Any

import httpx
import psycopg

from bench.http import _cpu_seconds, loadgen, wait_ready
from bench.pgbench import Load
from bench.report import Section, table
from gateway.config import Settings
from testkit.catalogue import Catalogue, seed_catalogue
from testkit.ports import free_port
from testkit.processes import stop
from testkit.throwaway_postgres import ThrowawayPostgres, migrated_server

FIRST_DAY = date(2032, 1, 5)
DAYS = 365
CONNECTIONS = 16


@dataclass(frozen=True)
class Run:
    name: str
    reads: int
    errors: int
    wall_s: float
    p50_ms: float
    p99_ms: float
    primary_cpu_s: float
    standby_cpu_s: float
    gateway_cpu_s: float
    replica_reads: float

    @property
    def rate(self) -> float:
        return self.reads / max(self.wall_s, 1e-9)


def _seed(url: str) -> Catalogue:
    with psycopg.connect(url) as conn:
        return seed_catalogue(
            conn,
            name="Replica bench salon",
            resources=8,
            opens=wall(8),
            closes=wall(20),
            max_advance=timedelta(days=3650),
        )


def _replica_reads(base: str) -> float:
    text = httpx.get(base + "/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith('booking_replica_reads_total{outcome="replica"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] / 1000.0


def _measure(
    name: str,
    primary: ThrowawayPostgres,
    standby: ThrowawayPostgres,
    cat: Catalogue,
    replicas: bool,
    seconds: int,
) -> Run:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": primary.url("booking"),
        "DATABASE_REPLICA_URLS": standby.url("booking") if replicas else "",
        "REDIS_URL": "",
        "CACHE_TIMEOUT": "1",
        "RATE_LIMIT_PER_SECOND": "1000000",
        "RATE_LIMIT_BURST": "1000000",
        "BOOKING_POOL_MAX": "10",
        "BOOKING_MAINTENANCE_SECONDS": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_ready(base, proc):
            raise RuntimeError("the gateway did not become ready")
        time.sleep(1.0)  # the replica monitor's first polls
        workload: dict[str, Any] = {
            "host": f"127.0.0.1:{port}",
            "secret": Settings.from_env().jwt_secret,
            "users": 1,
            "kind": "availability",
            "read_service_id": str(cat.service_id),
            "read_days": [(FIRST_DAY + timedelta(days=n)).isoformat() for n in range(DAYS)],
        }
        plan = {
            "mode": "duration",
            "seconds": seconds,
            "connections": CONNECTIONS,
            "workload": workload,
        }
        before = (_cpu_seconds(primary.pid()), _cpu_seconds(standby.pid()), _cpu_seconds(proc.pid))
        replica_before = _replica_reads(base) if replicas else 0.0
        result = loadgen(plan, timeout=seconds + 60)
        after = (_cpu_seconds(primary.pid()), _cpu_seconds(standby.pid()), _cpu_seconds(proc.pid))
        replica_after = _replica_reads(base) if replicas else 0.0
    finally:
        stop(proc, grace=15)
    ok = [s for s in result["statuses"] if s in (200, 304)]
    run = Run(
        name=name,
        reads=len(ok),
        errors=len(result["statuses"]) - len(ok) + int(result["errors"]),
        wall_s=float(result["wall_s"]),
        p50_ms=_percentile(result["latencies_us"], 0.50),
        p99_ms=_percentile(result["latencies_us"], 0.99),
        primary_cpu_s=after[0] - before[0],
        standby_cpu_s=after[1] - before[1],
        gateway_cpu_s=after[2] - before[2],
        replica_reads=replica_after - replica_before,
    )
    print(
        f"  {name:<24} {run.rate:>7.0f} req/s  p50 {run.p50_ms:.1f} ms  p99 {run.p99_ms:.1f} ms"
        f"  primary {run.primary_cpu_s:.1f} s  standby {run.standby_cpu_s:.1f} s CPU"
    )
    return run


def _report(alone: Run, paired: Run) -> str:
    def row(r: Run) -> list[str]:
        per_k = 1000.0 / max(r.reads, 1)
        return [
            r.name,
            f"{r.rate:,.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.primary_cpu_s * per_k:.2f}",
            f"{r.standby_cpu_s * per_k:.2f}",
            f"{r.gateway_cpu_s * per_k:.2f}",
            f"{100.0 * r.replica_reads / max(r.reads, 1):.0f} %",
            str(r.errors),
        ]

    moved = 1.0 - paired.primary_cpu_s / max(paired.reads, 1) / max(
        alone.primary_cpu_s / max(alone.reads, 1), 1e-9
    )
    return "\n".join(
        [
            f"{CONNECTIONS} connections reading availability of one service over {DAYS} days,"
            " a 1-second cache (most reads compute slots in a database), for the same time"
            " each; CPU seconds per 1,000 reads of the primary's and the standby's server"
            " processes and of the gateway.",
            "",
            table(
                [
                    "setup",
                    "reads/s",
                    "p50 ms",
                    "p99 ms",
                    "primary CPU s/1k",
                    "standby CPU s/1k",
                    "gateway CPU s/1k",
                    "slots by replica",
                    "errors",
                ],
                [row(alone), row(paired)],
            ),
            "",
            f"- The primary's CPU per read fell by **{100 * moved:.0f} %** with the replica: the"
            " slot computation moved to the standby; the primary still answers one small"
            " statement per cache miss (the fence position), and the versions when this"
            " process's version map does not know them.",
            "- The load generator, the gateway and both servers share this machine's cores, so a"
            " replica here cannot raise throughput; on hosts of their own, the moved work is the"
            ' primary\'s headroom for writes. "slots by replica" is the share of all reads'
            " (cache hits included) whose slots the replica computed.",
        ]
    )


def run(database_url: str, load: Load) -> Section:
    """A primary and standby of this family's own (the run's server is left alone)."""
    seconds = int(os.environ.get("BENCH_REPLICA_SECONDS", "8"))
    with migrated_server({}) as primary:
        cat = _seed(primary.url("booking"))
        standby = ThrowawayPostgres()
        try:
            standby.clone_of(primary).start()
            alone = _measure("primary alone", primary, standby, cat, False, seconds)
            paired = _measure("primary + 1 replica", primary, standby, cat, True, seconds)
        finally:
            standby.destroy()
    return Section("Read replicas", _report(alone, paired))
