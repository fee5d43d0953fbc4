"""The HTTP load generator: a process of its own (`python -m bench.loadgen`), reading one JSON
plan on stdin and writing one JSON result on stdout.

Raw HTTP/1.1 over asyncio streams (uvloop when present) with keep-alive, one connection per
client, requests built from pre-minted JWTs, so the generator spends its CPU on sockets, not on
an HTTP library. It reports every request's latency and status and the CPU it used itself.

Plans: {"mode": "duration", "seconds": S, "connections": N, "workload": {...}} runs N clients
back to back for S seconds; {"mode": "burst", "connections": N, "workload": {...}} opens N
connections, waits until all are open, and then sends one request on each at the same moment.
Workloads: "hold" (POST /v1/holds on a random or fixed slot), "availability" (GET, cached), and
"mix" (reads, holds and converts by weight). "think_ms" (optional) pauses each client for a
random 0..2x that long between requests, as people do.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gateway.http.tokens import mint_token


@dataclass
class Tally:
    latencies_us: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)  # seconds since the start
    errors: int = 0


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.writer.close()
            self.writer = None
        return status, body


class Requests:
    """Builds the requests of one workload."""

    def __init__(self, w: dict[str, Any], rng: random.Random) -> None:
        self.w, self.rng = w, rng
        host = w["host"]
        self.host_header = f"Host: {host}\r\n".encode()
        self.tokens = [
            mint_token(w["secret"], f"bench-{n}", "customer", 7200)
            for n in range(1, w.get("users", 500) + 1)
        ]
        self.won: list[tuple[str, str, str]] = []  # (hold id, session, token)

    def _post(self, path: str, body: dict[str, Any], token: str) -> bytes:
        data = json.dumps(body).encode()
        return (
            f"POST {path} HTTP/1.1\r\n".encode()
            + self.host_header
            + f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )

    def hold(self) -> bytes:
        w, rng = self.w, self.rng
        if "start" in w:  # one hot slot
            start, resource_id = w["start"], w["resource_id"]
        else:
            day = rng.randrange(w["days"])
            slot = rng.randrange(w["slots"])
            start = (
                datetime.fromisoformat(w["first_start"])
                + timedelta(days=day, seconds=slot * w["step_s"])
            ).isoformat()
            resource_id = rng.choice(w["resource_ids"])
        body: dict[str, Any] = {"service_id": w["service_id"], "start_time": start}
        if resource_id:
            body["resource_id"] = resource_id
        return self._post("/v1/holds", body, rng.choice(self.tokens))

    def availability(self) -> bytes:
        w = self.w
        day = self.rng.choice(w["read_days"])
        return (
            (
                f"GET /v1/services/{w['read_service_id']}/availability?date={day} HTTP/1.1\r\n"
            ).encode()
            + self.host_header
            + b"\r\n"
        )

    def convert(self) -> bytes:
        hold_id, session, token = self.won.pop()
        return self._post(f"/v1/holds/{hold_id}/booking", {"session_id": session}, token)

    def next(self) -> tuple[str, bytes]:
        workload = self.w["kind"]
        if workload == "hold":
            return "hold", self.hold()
        if workload == "availability":
            return "read", self.availability()
        roll = self.rng.random()
        reads, holds = self.w["weights"][0], self.w["weights"][1]
        if roll < reads:
            return "read", self.availability()
        if roll < reads + holds or not self.won:
            return "hold", self.hold()
        return "convert", self.convert()

    def seen(self, kind: str, raw: bytes, status: int, body: bytes) -> None:
        if kind == "hold" and status == 201 and self.w["kind"] == "mix":
            answer = json.loads(body)
            token = raw.split(b"Bearer ", 1)[1].split(b"\r\n", 1)[0].decode()
            self.won.append((answer["hold_id"], answer["session_id"], token))


async def client(
    n: int,
    plan: dict[str, Any],
    tally: Tally,
    clock: list[float],
    gate: asyncio.Event | None,
    opened: list[int],
) -> None:
    w = plan["workload"]
    requests = Requests(w, random.Random(plan.get("seed", 0) * 7919 + n))
    conn = Connection(w["host"].split(":")[0], int(w["host"].split(":")[1]))
    await conn.open()
    opened[0] += 1
    if gate is not None:
        await gate.wait()
    began = clock[0]
    until = began + plan.get("seconds", 0)
    think = float(plan.get("think_ms", 0)) / 1000.0
    while True:
        kind, raw = requests.next()
        t0 = time.perf_counter()
        try:
            status, body = await conn.request(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            tally.errors += 1
            conn.writer = None
            if gate is not None:
                return
            await asyncio.sleep(0.01)
            continue
        t1 = time.perf_counter()
        tally.latencies_us.append(int((t1 - t0) * 1e6))
        tally.kinds.append(kind)
        tally.statuses.append(status)
        tally.finished_at.append(t1 - began)
        requests.seen(kind, raw, status, body)
        if gate is not None or t1 >= until:
            return
        if think:  # a person reading the screen between clicks
            await asyncio.sleep(think * 2 * requests.rng.random())


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    tally = Tally()
    n = plan["connections"]
    opened = [0]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    clock = [time.perf_counter()]
    if plan["mode"] == "burst":
        gate = asyncio.Event()
        tasks = [asyncio.create_task(client(i, plan, tally, clock, gate, opened)) for i in range(n)]
        while opened[0] < n and not any(t.done() for t in tasks):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        clock[0] = time.perf_counter()
        gate.set()
    else:
        tasks = [asyncio.create_task(client(i, plan, tally, clock, None, opened)) for i in range(n)]
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - clock[0]
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "latencies_us": tally.latencies_us,
        "kinds": tally.kinds,
        "statuses": tally.statuses,
        "finished_at": tally.finished_at,
        "errors": tally.errors,
        "wall_s": wall,
        "cpu_s": cpu,
        "connections_opened": opened[0],
    }


def main() -> int:
    plan = json.load(sys.stdin)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run(plan))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
