"""Benchmark family "HTTP gateway": `booking serve --workers 2` (with a Redis of its own) against
the bench database, driven by bench/loadgen.py in a separate process.

Workloads: spread holds and one hot slot at the SQL family's client count (so the gateway/SQL
ratio compares like with like), cached availability reads, a 90/8/2 read/hold/convert mix, and
1,000 connections trying one slot at the same moment. Each figure sits beside the same run's
direct-SQL figure (bench/sql_engine.py's pgbench numbers), with the load generator's own CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import sql_engine
from bench.pgbench import Figures, Load
from bench.report import Section, table
from gateway.config import Settings
from tests.support.catalogue import Catalogue, numbered_uuid, seed_catalogue
from tests.support.throwaway_postgres import _children, free_port

DOCS = Path(__file__).resolve().parent.parent / "docs"
HTTP_FAMILY = 2  # resource ids 00000002-0000-4000-8000-<n>
SPREAD_RESOURCES = 100
SPREAD_DAYS = 200
FIRST_DAY = date(2031, 4, 1)
STEP = timedelta(minutes=15)
OPENS, CLOSES = wall(8), wall(20)
READ_DAYS = [date(2031, 5, 5) + timedelta(days=n) for n in range(7)]
READ_CONNECTIONS = 32
BURST = 1000
USERS = 500  # bench-1 .. bench-500, created by the SQL family's seed
SOAK_SECONDS = 60  # BENCH_SOAK=1 adds a 1,000-client soak of this length


def wait_ready(base: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> bool:
    """Whether a started gateway reports ready on /ready within `seconds` (False if it died)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/ready", timeout=2).json().get("status") == "ready":
                return True
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    return False


@dataclass(frozen=True)
class Phase:
    name: str
    what: str
    connections: int
    result: dict[str, Any]
    gateway_cpu_s: float

    @property
    def answered(self) -> int:
        return len(self.result["statuses"])

    @property
    def rate(self) -> float:
        return self.answered / max(self.result["wall_s"], 1e-9)

    def percentile(self, q: float, kind: str | None = None) -> float:
        lat = sorted(
            v
            for v, k in zip(self.result["latencies_us"], self.result["kinds"], strict=True)
            if kind is None or k == kind
        )
        if not lat:
            return float("nan")
        return lat[min(len(lat) - 1, max(0, round(q * len(lat)) - 1))] / 1000.0

    def statuses(self, kind: str | None = None) -> Counter[int]:
        return Counter(
            s
            for s, k in zip(self.result["statuses"], self.result["kinds"], strict=True)
            if kind is None or k == kind
        )

    @property
    def client_cores(self) -> float:
        return float(self.result["cpu_s"]) / max(self.result["wall_s"], 1e-9)


def _cpu_seconds(pid: int) -> float:
    """CPU (user + system) of a process and its direct children (the uvicorn workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _metrics(base: str, scrapes: int = 24) -> dict[str, float]:
    """Counters summed over the gateway's worker processes: each scrape on a new connection
    reaches one worker; distinct snapshots (taken while idle) are distinct workers."""
    snapshots: set[tuple[tuple[str, float], ...]] = set()
    for _ in range(scrapes):
        text = httpx.get(base + "/metrics", timeout=10, headers={"Connection": "close"}).text
        values = []
        for line in text.splitlines():
            if line.startswith(
                ("booking_cache_requests_total", "booking_holds_total", "booking_bookings_total")
            ):
                name, value = line.rsplit(" ", 1)
                values.append((name, float(value)))
        snapshots.add(tuple(sorted(values)))
    summed: dict[str, float] = {}
    for snap in snapshots:
        for name, value in snap:
            summed[name] = summed.get(name, 0.0) + value
    return summed


def _hit_rate(before: dict[str, float], after: dict[str, float]) -> tuple[float, int]:
    def delta(label: str) -> float:
        key = f'booking_cache_requests_total{{result="{label}"}}'
        return after.get(key, 0.0) - before.get(key, 0.0)

    hits = delta("hit_local") + delta("hit_redis")
    total = hits + delta("miss")
    return (hits / total if total else float("nan")), int(total)


def _seed(url: str) -> tuple[Catalogue, Catalogue]:
    with psycopg.connect(url) as conn:
        spread = seed_catalogue(
            conn,
            name="HTTP spread",
            resources=SPREAD_RESOURCES,
            resource_ids=[numbered_uuid(HTTP_FAMILY, n + 1) for n in range(SPREAD_RESOURCES)],
            duration=STEP,
            slot_step=STEP,
            opens=OPENS,
            closes=CLOSES,
            max_live_holds_per_customer=100,
        )
        salon = seed_catalogue(
            conn,
            name="HTTP salon",
            resources=8,
            duration=timedelta(hours=1),
            buffer_after=timedelta(minutes=10),
            max_live_holds_per_customer=100,
        )
    return spread, salon


class Gateway:
    """`booking serve --workers 2` on a free port, with a redis-server of its own if installed."""

    def __init__(self, url: str) -> None:
        self.redis: subprocess.Popen[bytes] | None = None
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": "",
            "RATE_LIMIT_PER_SECOND": "1000000",
            "RATE_LIMIT_BURST": "1000000",
            "BOOKING_POOL_MAX": "10",
        }
        if shutil.which("redis-server"):
            rport = free_port()
            self.redis = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(rport),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
            )
            env["REDIS_URL"] = f"redis://127.0.0.1:{rport}/0"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "serve",
                "--workers",
                "2",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_ready(self.base, self.proc):
            self.close()
            raise RuntimeError("the gateway did not become ready")
        self.with_redis = self.redis is not None

    def close(self) -> None:
        for proc in (self.proc, self.redis):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _loadgen(plan: dict[str, Any], timeout: float) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run(database_url: str, load: Load) -> Section:
    spread, salon = _seed(database_url)
    seconds = min(load.seconds, int(os.environ.get("BENCH_HTTP_SECONDS", "10")))
    gw = Gateway(database_url)
    phases: list[Phase] = []
    soak_note = ""
    base_workload = {
        "host": f"127.0.0.1:{gw.port}",
        "secret": Settings.from_env().jwt_secret,
        "users": USERS,
    }
    slots = int((datetime.combine(FIRST_DAY, CLOSES) - datetime.combine(FIRST_DAY, OPENS)) / STEP)
    spread_w = {
        **base_workload,
        "kind": "hold",
        "service_id": str(spread.service_id),
        "resource_ids": [str(r) for r in spread.resource_ids],
        "days": SPREAD_DAYS,
        "slots": slots,
        "step_s": STEP.total_seconds(),
        "first_start": spread.start(FIRST_DAY, OPENS).isoformat(),
    }
    salon_w = {
        **base_workload,
        "service_id": str(salon.service_id),
        "resource_ids": [str(r) for r in salon.resource_ids],
        "days": len(READ_DAYS),
        "slots": 29,
        "step_s": STEP.total_seconds(),
        "first_start": salon.start(READ_DAYS[0], wall(9)).isoformat(),
        "read_service_id": str(salon.service_id),
        "read_days": [d.isoformat() for d in READ_DAYS],
    }

    def phase(name: str, what: str, plan: dict[str, Any]) -> Phase:
        cpu0 = _cpu_seconds(gw.proc.pid)
        result = _loadgen(plan, timeout=seconds + 180)
        p = Phase(name, what, plan["connections"], result, _cpu_seconds(gw.proc.pid) - cpu0)
        print(
            f"  {name:<22} {p.rate:>8.0f} req/s  p50 {p.percentile(0.5):.1f} ms"
            f"  p99 {p.percentile(0.99):.1f} ms  {dict(p.statuses())}"
            f"  client {p.client_cores:.2f} cores",
            flush=True,
        )
        phases.append(p)
        return p

    try:
        hold_spread = phase(
            "POST /v1/holds spread",
            "random slot of 960,000, 100 staff",
            {
                "mode": "duration",
                "seconds": seconds,
                "connections": load.clients,
                "workload": spread_w,
            },
        )
        hot_start = salon.start(READ_DAYS[-1], wall(16)).isoformat()
        hold_hot = phase(
            "POST /v1/holds hot",
            "every client on one slot",
            {
                "mode": "duration",
                "seconds": seconds,
                "connections": load.clients,
                "workload": {
                    **salon_w,
                    "kind": "hold",
                    "start": hot_start,
                    "resource_id": str(salon.resource_ids[0]),
                },
            },
        )
        for day in READ_DAYS:  # warm the cache, as `booking warm-cache` would
            httpx.get(
                f"{gw.base}/v1/services/{salon.service_id}/availability",
                params={"date": day.isoformat()},
                timeout=10,
            )
        before = _metrics(gw.base)
        reads = phase(
            "GET availability",
            "cached, 7 days of one service",
            {
                "mode": "duration",
                "seconds": seconds,
                "connections": READ_CONNECTIONS,
                "workload": {**salon_w, "kind": "availability"},
            },
        )
        middle = _metrics(gw.base)
        mix = phase(
            "mix 90/8/2",
            "reads / holds / converts on one salon's week",
            {
                "mode": "duration",
                "seconds": seconds,
                "connections": READ_CONNECTIONS,
                "workload": {**salon_w, "kind": "mix", "weights": [0.90, 0.08, 0.02]},
            },
        )
        after = _metrics(gw.base)
        # a day the other phases never touch, so the slot is free when the burst begins
        burst_start = salon.start(READ_DAYS[-1] + timedelta(days=7), wall(10)).isoformat()
        burst = phase(
            f"{BURST:,} at once",
            f"{BURST:,} connections, one slot, one moment",
            {
                "mode": "burst",
                "connections": BURST,
                "workload": {
                    **salon_w,
                    "kind": "hold",
                    "start": burst_start,
                    "resource_id": str(salon.resource_ids[1]),
                },
            },
        )
        if os.environ.get("BENCH_SOAK") == "1":
            soak_before = _metrics(gw.base)
            soak = phase(
                f"soak {BURST:,} clients",
                f"mix 90/8/2, {SOAK_SECONDS} s, ~1 s think time",
                {
                    "mode": "duration",
                    "seconds": SOAK_SECONDS,
                    "connections": BURST,
                    "think_ms": 1000,
                    "workload": {**salon_w, "kind": "mix", "weights": [0.90, 0.08, 0.02]},
                },
            )
            soak_hit, _ = _hit_rate(soak_before, _metrics(gw.base))
            soak_note = (
                f"- Soak: {BURST:,} clients with think time for {SOAK_SECONDS} s: "
                f"{soak.rate:,.0f} req/s, answers {dict(soak.statuses())}, "
                f"{soak.result['errors']} without an answer, p99 "
                f"{soak.percentile(0.99):.1f} ms, cache hit rate {soak_hit:.1%}."
            )
        with psycopg.connect(database_url) as conn:
            burst_live = conn.execute(
                "select count(*) from booking.reservations where service_id = %s"
                " and starts_at = %s and status in ('held', 'confirmed')",
                (salon.service_id, datetime.fromisoformat(burst_start)),
            ).fetchone()
    finally:
        gw.close()

    read_hit, read_lookups = _hit_rate(before, middle)
    mix_hit, mix_lookups = _hit_rate(middle, after)
    sql = sql_engine.LAST
    pairs: dict[str, Figures | None] = {
        hold_spread.name: sql.get("hold spread"),
        hold_hot.name: sql.get("hold hot slot"),
        reads.name: sql.get("availability"),
    }
    rows = []
    for p in phases:
        f = pairs.get(p.name)
        rows.append(
            [
                p.name,
                p.what,
                str(p.connections),
                f"{p.rate:,.0f}",
                f"{p.percentile(0.5):.1f}",
                f"{p.percentile(0.9):.1f}",
                f"{p.percentile(0.99):.1f}",
                f"{f.tps:,.0f}" if f else "",
                f"{p.rate / f.tps:.2f}" if f else "",
                f"{p.client_cores:.2f}",
                f"{p.gateway_cpu_s / max(p.result['wall_s'], 1e-9):.2f}",
            ]
        )
    header = [
        "workload",
        "what",
        "conns",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "SQL tps",
        "x SQL",
        "client cores",
        "gateway cores",
    ]
    mix_holds = mix.statuses("hold")
    mix_converts = mix.statuses("convert")
    conflict_rate = mix_holds[409] / max(1, sum(mix_holds.values()))
    burst_codes = burst.statuses()
    last_answer = max(burst.result["finished_at"]) if burst.result["finished_at"] else float("nan")
    live = burst_live[0] if burst_live else -1
    spread_sql = pairs[hold_spread.name]
    uncached = pairs[reads.name]
    notes = [
        f"- **Gateway holds (spread) = {hold_spread.rate / spread_sql.tps:.2f} x direct SQL** "
        f"at {load.clients} clients (goal >= 0.5)."
        if spread_sql
        else "",
        f"- Cached availability: **{reads.rate:,.0f} req/s**, cache hit rate "
        f"**{read_hit:.1%}** ({read_lookups:,} lookups)"
        + (
            f"; uncached get_availability over SQL: {uncached.tps:,.0f} tps, so cached HTTP is "
            f"{reads.rate / uncached.tps:.1f} x uncached SQL."
            if uncached
            else "."
        ),
        f"- Mix 90/8/2: {mix.rate:,.0f} req/s, cache hit rate **{mix_hit:.1%}** "
        f"({mix_lookups:,} lookups), hold conflict rate {conflict_rate:.1%} "
        f"(holds {dict(mix_holds)}, converts {dict(mix_converts)}); read p99 "
        f"{mix.percentile(0.99, 'read'):.1f} ms, hold p99 {mix.percentile(0.99, 'hold'):.1f} ms.",
        f"- {BURST:,} concurrent attempts on one slot: answers {dict(burst_codes)}, "
        f"{burst.result['errors']} without an answer; **{burst_codes[201]} winner**, live "
        f"reservations on the slot afterwards: {live}; the last answer came "
        f"**{last_answer:.2f} s** after the start.",
        soak_note,
        f"- Gateway: `booking serve --workers 2`, pool 10 per worker, "
        f"{'a Redis of its own' if gw.with_redis else 'no Redis'}, rate limits lifted. "
        "Load generator: bench/loadgen.py in its own process (raw HTTP/1.1 keep-alive, uvloop); "
        "'client cores' is the CPU it used per second of wall time, 'gateway cores' the same "
        "for the gateway's processes. The machine has 2 cores for PostgreSQL, the gateway and "
        "the client together, so the client's share is taken from the others.",
        "- ![HTTP throughput](perf-http-throughput.png) ![HTTP latency](perf-http-latency.png)",
    ]
    _plot(phases, pairs)
    markdown = "\n".join([table(header, rows), "", *[n for n in notes if n]])
    return Section(title="HTTP gateway", markdown=markdown)


def _plot(phases: list[Phase], pairs: dict[str, Figures | None]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [p.name for p in phases]
    fig, ax = plt.subplots(figsize=(9, 4))
    xs = range(len(phases))
    ax.bar([x - 0.2 for x in xs], [p.rate for p in phases], width=0.4, label="HTTP req/s")
    ax.bar(
        [x + 0.2 for x in xs],
        [
            (pairs.get(n).tps if pairs.get(n) else 0)  # type: ignore[union-attr]
            for n in names
        ],
        width=0.4,
        label="direct SQL tps",
    )
    ax.set_xticks(list(xs), names, rotation=15, fontsize=8)
    ax.set_ylabel("per second")
    ax.set_title("Throughput: gateway vs direct SQL (same run)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(DOCS / "perf-http-throughput.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    for i, (q, label) in enumerate(((0.5, "p50"), (0.9, "p90"), (0.99, "p99"))):
        ax.bar(
            [x + (i - 1) * 0.27 for x in xs],
            [p.percentile(q) for p in phases],
            width=0.27,
            label=label,
        )
    ax.set_yscale("log")
    ax.set_xticks(list(xs), names, rotation=15, fontsize=8)
    ax.set_ylabel("latency, ms (log)")
    ax.set_title("HTTP latency percentiles")
    ax.legend()
    fig.tight_layout()
    fig.savefig(DOCS / "perf-http-latency.png", dpi=110)
    plt.close(fig)
