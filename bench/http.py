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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg

from bench import sql_engine
from bench.pgbench import Figures, Load
from bench.report import Section, table
from gateway.config import Settings
from testkit.catalogue import Catalogue, seed_catalogue, seed_slot_grid
from testkit.ports import free_port
from testkit.processes import children
from testkit.throwaway_redis import start_redis

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

Workload = dict[str, Any]  # what bench/loadgen.py sends, by "kind"
Plan = dict[str, Any]  # one load generator run: mode, connections, workload, ...

SPREAD_HOLDS = "POST /v1/holds spread"
HOT_HOLDS = "POST /v1/holds hot"
READS = "GET availability"
MIX = "mix 90/8/2"
MIX_WEIGHTS = [0.90, 0.08, 0.02]  # reads / holds / converts
# the direct-SQL figure (bench/sql_engine.py, same run) each gateway phase is set against
SQL_TWINS = {SPREAD_HOLDS: "hold spread", HOT_HOLDS: "hold hot slot", READS: "availability"}


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
        return self.answered / max(float(self.result["wall_s"]), 1e-9)

    def percentile(self, q: float, kind: str | None = None) -> float:
        lat = sorted(
            v
            for v, k in zip(self.result["latencies_us"], self.result["kinds"], strict=True)
            if kind is None or k == kind
        )
        if not lat:
            return float("nan")
        return float(lat[min(len(lat) - 1, max(0, round(q * len(lat)) - 1))]) / 1000.0

    def statuses(self, kind: str | None = None) -> Counter[int]:
        return Counter(
            s
            for s, k in zip(self.result["statuses"], self.result["kinds"], strict=True)
            if kind is None or k == kind
        )

    @property
    def client_cores(self) -> float:
        return float(self.result["cpu_s"]) / max(float(self.result["wall_s"]), 1e-9)


def _cpu_seconds(pid: int) -> float:
    """CPU (user + system) of a process and its direct children (the uvicorn workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in [pid, *children(pid)]:
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
                (
                    "booking_cache_requests_total",
                    "booking_cache_refreshes_total",
                    "booking_holds_total",
                    "booking_bookings_total",
                )
            ):
                metric, value = line.rsplit(" ", 1)
                values.append((metric, float(value)))
        snapshots.add(tuple(sorted(values)))
    summed: dict[str, float] = {}
    for snap in snapshots:
        for metric, count in snap:
            summed[metric] = summed.get(metric, 0.0) + count
    return summed


def _hit_rate(before: dict[str, float], after: dict[str, float]) -> tuple[float, int]:
    def delta(label: str) -> float:
        key = f'booking_cache_requests_total{{result="{label}"}}'
        return after.get(key, 0.0) - before.get(key, 0.0)

    # a hit: a lookup answered without reading slots from the database ("joined": it shared
    # another reader's read)
    hits = delta("hit_answer") + delta("hit_local") + delta("hit_redis") + delta("joined")
    total = hits + delta("miss")
    return (hits / total if total else float("nan")), int(total)


def _seed(url: str) -> tuple[Catalogue, Catalogue]:
    with psycopg.connect(url) as conn:
        spread = seed_slot_grid(
            conn,
            name="HTTP spread",
            resources=SPREAD_RESOURCES,
            family=HTTP_FAMILY,
            step=STEP,
            opens=OPENS,
            closes=CLOSES,
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
    """`booking serve --workers 2` (or `workers`) on a free port, with a redis-server of its own
    if installed."""

    def __init__(self, url: str, workers: int = 2) -> None:
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
            self.redis = start_redis(rport)
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
                str(workers),
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


def loadgen(plan: dict[str, Any], timeout: float) -> dict[str, Any]:
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


def _workloads(gw: Gateway, spread: Catalogue, salon: Catalogue) -> tuple[Workload, Workload]:
    """Holds on random slots of the spread catalogue, and the salon's week (reads, holds and
    converts), which the later phases narrow to one kind or one slot."""
    caller = {
        "host": f"127.0.0.1:{gw.port}",
        "secret": Settings.from_env().jwt_secret,
        "users": USERS,
    }
    slots = int((datetime.combine(FIRST_DAY, CLOSES) - datetime.combine(FIRST_DAY, OPENS)) / STEP)
    spread_holds = {
        **caller,
        "kind": "hold",
        "service_id": str(spread.service_id),
        "resource_ids": [str(r) for r in spread.resource_ids],
        "days": SPREAD_DAYS,
        "slots": slots,
        "step_s": STEP.total_seconds(),
        "first_start": spread.start(FIRST_DAY, OPENS).isoformat(),
    }
    salon_week = {
        **caller,
        "service_id": str(salon.service_id),
        "resource_ids": [str(r) for r in salon.resource_ids],
        "days": len(READ_DAYS),
        "slots": 29,
        "step_s": STEP.total_seconds(),
        "first_start": salon.start(READ_DAYS[0], wall(9)).isoformat(),
        "read_service_id": str(salon.service_id),
        "read_days": [d.isoformat() for d in READ_DAYS],
    }
    return spread_holds, salon_week


def _holds_on_one_slot(salon_week: Workload, start: datetime, resource_id: UUID) -> Workload:
    return {
        **salon_week,
        "kind": "hold",
        "start": start.isoformat(),
        "resource_id": str(resource_id),
    }


def _mix(salon_week: Workload) -> Workload:
    return {**salon_week, "kind": "mix", "weights": MIX_WEIGHTS}


def _for_seconds(
    seconds: int, connections: int, workload: Workload, think_ms: int | None = None
) -> Plan:
    """`connections` clients sending requests back to back (or with think time) for `seconds`."""
    plan: Plan = {"mode": "duration", "seconds": seconds, "connections": connections}
    if think_ms is not None:
        plan["think_ms"] = think_ms
    return {**plan, "workload": workload}


def burst_plan(connections: int, workload: Workload) -> Plan:
    """`connections` connections opened first, then one request on each at the same moment."""
    return {"mode": "burst", "connections": connections, "workload": workload}


@dataclass
class Phases:
    """Runs the load generator against the gateway one phase at a time, prints each phase's
    figures as it ends and keeps the phases in order (one table row each)."""

    gw: Gateway
    timeout: float
    done: list[Phase] = field(default_factory=list)

    def run(self, name: str, what: str, plan: Plan) -> Phase:
        cpu0 = _cpu_seconds(self.gw.proc.pid)
        result = loadgen(plan, timeout=self.timeout)
        p = Phase(name, what, plan["connections"], result, _cpu_seconds(self.gw.proc.pid) - cpu0)
        print(
            f"  {name:<22} {p.rate:>8.0f} req/s  p50 {p.percentile(0.5):.1f} ms"
            f"  p99 {p.percentile(0.99):.1f} ms  {dict(p.statuses())}"
            f"  client {p.client_cores:.2f} cores",
            flush=True,
        )
        self.done.append(p)
        return p


@dataclass(frozen=True)
class Measured:
    """What one run measured, for the report."""

    phases: list[Phase]
    hold_spread: Phase
    reads: Phase
    mix: Phase
    burst: Phase
    read_hits: tuple[float, int]  # cache hit rate and lookups while `reads` ran
    mix_hits: tuple[float, int]  # the same while `mix` ran
    mix_refreshes: int  # days the listeners read ahead of readers while `mix` ran
    burst_live: int  # live reservations on the burst's slot afterwards
    soak_note: str  # empty unless BENCH_SOAK=1
    with_redis: bool


def _warm_cache(base: str, salon: Catalogue) -> None:
    """One availability read per read day, as `booking warm-cache` would."""
    for day in READ_DAYS:
        httpx.get(
            f"{base}/v1/services/{salon.service_id}/availability",
            params={"date": day.isoformat()},
            timeout=10,
        )


def _soak(phases: Phases, base: str, salon_week: Workload) -> str:
    """BENCH_SOAK=1: 1,000 clients with think time on the mix, told in one note."""
    before = _metrics(base)
    soak = phases.run(
        f"soak {BURST:,} clients",
        f"mix 90/8/2, {SOAK_SECONDS} s, ~1 s think time",
        _for_seconds(SOAK_SECONDS, BURST, _mix(salon_week), think_ms=1000),
    )
    soak_hit, _ = _hit_rate(before, _metrics(base))
    return (
        f"- Soak: {BURST:,} clients with think time for {SOAK_SECONDS} s: "
        f"{soak.rate:,.0f} req/s, answers {dict(soak.statuses())}, "
        f"{soak.result['errors']} without an answer, p99 "
        f"{soak.percentile(0.99):.1f} ms, cache hit rate {soak_hit:.1%}."
    )


def _live_on_slot(database_url: str, salon: Catalogue, start: datetime) -> int:
    """Live (held or confirmed) reservations of the salon's service starting at `start`."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select count(*) from booking.reservations where service_id = %s"
            " and starts_at = %s and status in ('held', 'confirmed')",
            (salon.service_id, start),
        ).fetchone()
    return int(row[0]) if row else -1


def _measure(
    gw: Gateway,
    database_url: str,
    spread: Catalogue,
    salon: Catalogue,
    clients: int,
    seconds: int,
) -> Measured:
    """Every phase in order, with the cache counters read between them."""
    spread_holds, salon_week = _workloads(gw, spread, salon)
    phases = Phases(gw, timeout=seconds + 180)
    hold_spread = phases.run(
        SPREAD_HOLDS,
        "random slot of 960,000, 100 staff",
        _for_seconds(seconds, clients, spread_holds),
    )
    hot_start = salon.start(READ_DAYS[-1], wall(16))
    phases.run(
        HOT_HOLDS,
        "every client on one slot",
        _for_seconds(
            seconds, clients, _holds_on_one_slot(salon_week, hot_start, salon.resource_ids[0])
        ),
    )
    _warm_cache(gw.base, salon)
    before = _metrics(gw.base)
    reads = phases.run(
        READS,
        "cached, 7 days of one service",
        _for_seconds(seconds, READ_CONNECTIONS, {**salon_week, "kind": "availability"}),
    )
    middle = _metrics(gw.base)
    mix = phases.run(
        MIX,
        "reads / holds / converts on one salon's week",
        _for_seconds(seconds, READ_CONNECTIONS, _mix(salon_week)),
    )
    after = _metrics(gw.base)
    # a day the other phases never touch, so the slot is free when the burst begins
    burst_start = salon.start(READ_DAYS[-1] + timedelta(days=7), wall(10))
    burst = phases.run(
        f"{BURST:,} at once",
        f"{BURST:,} connections, one slot, one moment",
        burst_plan(BURST, _holds_on_one_slot(salon_week, burst_start, salon.resource_ids[1])),
    )
    soak_note = _soak(phases, gw.base, salon_week) if os.environ.get("BENCH_SOAK") == "1" else ""
    return Measured(
        phases=phases.done,
        hold_spread=hold_spread,
        reads=reads,
        mix=mix,
        burst=burst,
        read_hits=_hit_rate(before, middle),
        mix_hits=_hit_rate(middle, after),
        mix_refreshes=int(
            after.get("booking_cache_refreshes_total", 0.0)
            - middle.get("booking_cache_refreshes_total", 0.0)
        ),
        burst_live=_live_on_slot(database_url, salon, burst_start),
        soak_note=soak_note,
        with_redis=gw.with_redis,
    )


HEADER = [
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


def _row(p: Phase, sql: Figures | None) -> list[str]:
    return [
        p.name,
        p.what,
        str(p.connections),
        f"{p.rate:,.0f}",
        f"{p.percentile(0.5):.1f}",
        f"{p.percentile(0.9):.1f}",
        f"{p.percentile(0.99):.1f}",
        f"{sql.tps:,.0f}" if sql else "",
        f"{p.rate / sql.tps:.2f}" if sql else "",
        f"{p.client_cores:.2f}",
        f"{p.gateway_cpu_s / max(p.result['wall_s'], 1e-9):.2f}",
    ]


def _spread_note(m: Measured, spread_sql: Figures | None, clients: int) -> str:
    if not spread_sql:
        return ""
    return (
        f"- **Gateway holds (spread) = {m.hold_spread.rate / spread_sql.tps:.2f} x direct SQL** "
        f"at {clients} clients (goal >= 0.5)."
    )


def _reads_note(m: Measured, uncached: Figures | None) -> str:
    read_hit, read_lookups = m.read_hits
    return (
        f"- Cached availability: **{m.reads.rate:,.0f} req/s**, cache hit rate "
        f"**{read_hit:.1%}** ({read_lookups:,} lookups)"
        + (
            f"; uncached get_availability over SQL: {uncached.tps:,.0f} tps, so cached HTTP is "
            f"{m.reads.rate / uncached.tps:.1f} x uncached SQL."
            if uncached
            else "."
        )
    )


def _mix_note(m: Measured) -> str:
    mix_hit, mix_lookups = m.mix_hits
    holds = m.mix.statuses("hold")
    converts = m.mix.statuses("convert")
    conflict_rate = holds[409] / max(1, sum(holds.values()))
    return (
        f"- Mix 90/8/2: {m.mix.rate:,.0f} req/s, cache hit rate **{mix_hit:.1%}** "
        f"({mix_lookups:,} lookups; a hit is a lookup answered without reading slots from the "
        f"database, 'joined' reads included), {m.mix_refreshes:,} days read ahead of readers by "
        "the listeners (each a database read unless the other worker had cached it), hold "
        f"conflict rate {conflict_rate:.1%} "
        f"(holds {dict(holds)}, converts {dict(converts)}); read p99 "
        f"{m.mix.percentile(0.99, 'read'):.1f} ms, hold p99 "
        f"{m.mix.percentile(0.99, 'hold'):.1f} ms."
    )


def _burst_note(m: Measured) -> str:
    codes = m.burst.statuses()
    finished = m.burst.result["finished_at"]
    last_answer = max(finished) if finished else float("nan")
    return (
        f"- {BURST:,} concurrent attempts on one slot: answers {dict(codes)}, "
        f"{m.burst.result['errors']} without an answer; **{codes[201]} winner**, live "
        f"reservations on the slot afterwards: {m.burst_live}; the last answer came "
        f"**{last_answer:.2f} s** after the start."
    )


def _setup_note(with_redis: bool) -> str:
    return (
        f"- Gateway: `booking serve --workers 2`, pool 10 per worker, "
        f"{'a Redis of its own' if with_redis else 'no Redis'}, rate limiter on (every request "
        "checked, shared through that Redis) with a budget the load cannot exhaust, access log "
        "off. "
        "Load generator: bench/loadgen.py in its own process (raw HTTP/1.1 keep-alive, uvloop); "
        "'client cores' is the CPU it used per second of wall time, 'gateway cores' the same "
        "for the gateway's processes. The machine has 2 cores for PostgreSQL, the gateway and "
        "the client together, so the client's share is taken from the others."
    )


PLOTS_NOTE = "- ![HTTP throughput](perf-http-throughput.png) ![HTTP latency](perf-http-latency.png)"


def _report(m: Measured, twins: dict[str, Figures | None], clients: int) -> str:
    """The PERFORMANCE.md section: one row per phase, then the notes."""
    rows = [_row(p, twins.get(p.name)) for p in m.phases]
    notes = [
        _spread_note(m, twins[SPREAD_HOLDS], clients),
        _reads_note(m, twins[READS]),
        _mix_note(m),
        _burst_note(m),
        m.soak_note,
        _setup_note(m.with_redis),
        PLOTS_NOTE,
    ]
    return "\n".join([table(HEADER, rows), "", *[n for n in notes if n]])


def run(database_url: str, load: Load) -> Section:
    spread, salon = _seed(database_url)
    seconds = min(load.seconds, int(os.environ.get("BENCH_HTTP_SECONDS", "10")))
    gw = Gateway(database_url)
    try:
        measured = _measure(gw, database_url, spread, salon, load.clients, seconds)
    finally:
        gw.close()
    twins = {name: sql_engine.LAST.get(figures) for name, figures in SQL_TWINS.items()}
    _plot(measured.phases, twins)
    return Section(title="HTTP gateway", markdown=_report(measured, twins, load.clients))


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
