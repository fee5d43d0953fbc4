"""The profile behind docs/PROFILES.md: py-spy on one `booking serve --workers 1` (with Redis when
redis-server is installed) under cached availability reads, printing the top frames.

    .venv/bin/python -m bench.profile_reads [SECONDS]

A throwaway PostgreSQL (as `make bench` starts) is migrated and seeded with the HTTP family's
salon; bench/loadgen.py reads its week with 32 connections from a process of its own while
py-spy samples the gateway (100 samples/s). Prints the rate, then the frames with the largest
share of samples, by their own time and with what they called.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import psycopg

from bench.http import READ_CONNECTIONS, Gateway, _seed, _warm_cache, _workloads, loadgen
from gateway.cli.migrate import migrate
from testkit.throwaway_postgres import ThrowawayPostgres

TOP = 25


def top_frames(raw: Path) -> str:
    """py-spy's raw output (one `frame;frame;... count` line per stack) as two rankings."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        samples += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for f in set(frames):
            total[f] += n
    out = [f"{samples} samples", "-- own time"]
    out += [f"{n / samples:6.1%} {f[:140]}" for f, n in own.most_common(TOP)]
    out.append("-- with what it called")
    out += [f"{n / samples:6.1%} {f[:140]}" for f, n in total.most_common(TOP + 10)[10:]]
    return "\n".join(out)


def main() -> int:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    server = ThrowawayPostgres()
    try:
        server.init().start()
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("create database booking")
        url = server.url("booking")
        migrate(url)
        spread, salon = _seed(url)
        gw = Gateway(url, workers=1)
        try:
            _warm_cache(gw.base, salon)
            _, salon_week = _workloads(gw, spread, salon)
            plan = {
                "mode": "duration",
                "seconds": seconds,
                "connections": READ_CONNECTIONS,
                "workload": {**salon_week, "kind": "availability"},
            }
            raw = Path(tempfile.mkdtemp()) / "profile.txt"
            record = ["record", "-f", "raw", "-o", str(raw), "-d", str(seconds - 1)]
            sampler = subprocess.Popen(
                [spy, *record, "-p", str(gw.proc.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = loadgen(plan, timeout=seconds + 60)
            sampler.wait(60)
        finally:
            gw.close()
    finally:
        server.destroy()
    print(f"{len(result['statuses']) / result['wall_s']:,.0f} cached reads/s on one worker")
    print(top_frames(raw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
