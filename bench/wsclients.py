"""Websocket subscribers for bench/realtime.py: a process of its own (`python -m bench.wsclients`)
holding many authenticated, subscribed connections to one gateway.

Protocol on stdin/stdout, one JSON object per line:
1. the parent writes the plan {"url", "token", "topics", "connections", "concurrency"};
   connection i subscribes to topics[i % len(topics)];
2. once every connection is open and subscribed the child writes {"ready": true, ...};
3. the parent commits its writes, then sends {"expect": E, "commits": {reservation id: time},
   "grace_s": G}; the child waits until every connection has received E events (or G seconds),
   and writes {"latencies_us": [...], "cpu_s", "wall_s", "missing", ...} and exits.

Each receipt is stamped with time.time() as the message comes off the socket and parsed only
afterwards, so the stamp is not delayed by JSON work; latency = receipt - commit on one clock.
With `expect` 0 the connections just close (the idle-connection measurement).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

EVENT_MARK = '"type":"event"'


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def open_one(url: str, token: str, topic: str) -> ClientConnection:
    ws = await websockets.connect(
        url,
        subprotocols=["bearer", token],  # type: ignore[list-item]
        proxy=None,
        ping_interval=None,
        max_queue=None,
        open_timeout=60,
    )
    await ws.send(json.dumps({"type": "subscribe", "topics": [topic]}))
    while True:
        reply = json.loads(await ws.recv())
        if reply["type"] == "subscribed":
            return ws
        if reply["type"] not in ("authenticated", "heartbeat"):
            raise RuntimeError(f"unexpected reply {reply}")


class Receiver:
    def __init__(self, sockets: list[ClientConnection]) -> None:
        self.sockets = sockets
        self.received: list[list[tuple[float, str]]] = [[] for _ in sockets]
        self.events = [0] * len(sockets)
        self.changed = asyncio.Event()

    async def read(self, i: int) -> None:
        ws, got = self.sockets[i], self.received[i]
        try:
            async for raw in ws:
                at = time.time()
                text = raw if isinstance(raw, str) else raw.decode()
                got.append((at, text))
                if EVENT_MARK in text:
                    self.events[i] += 1
                    self.changed.set()
        except websockets.ConnectionClosed:
            pass

    async def wait_for(self, expect: int, grace: float) -> None:
        deadline = time.monotonic() + grace
        while min(self.events, default=expect) < expect:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))


async def main() -> None:
    raise_fd_limit()
    plan: dict[str, Any] = json.loads(sys.stdin.readline())
    topics: list[str] = plan["topics"]
    gate = asyncio.Semaphore(int(plan.get("concurrency", 100)))
    began = time.monotonic()

    async def opened(i: int) -> ClientConnection:
        async with gate:
            return await open_one(plan["url"], plan["token"], topics[i % len(topics)])

    sockets = await asyncio.gather(*(opened(i) for i in range(int(plan["connections"]))))
    receiver = Receiver(list(sockets))
    readers = [asyncio.create_task(receiver.read(i)) for i in range(len(sockets))]
    print(
        json.dumps({"ready": True, "opened": len(sockets), "open_s": time.monotonic() - began}),
        flush=True,
    )
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    stop: dict[str, Any] = json.loads(await asyncio.to_thread(sys.stdin.readline))
    expect = int(stop.get("expect", 0))
    if expect:
        await receiver.wait_for(expect, float(stop.get("grace_s", 10)))
    cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
    commits: dict[str, float] = stop.get("commits", {})
    latencies: list[int] = []
    unmatched = 0
    for got in receiver.received:
        for at, text in got:
            if EVENT_MARK not in text:
                continue
            sent = commits.get(json.loads(text)["payload"].get("reservation_id", ""))
            if sent is None:
                unmatched += 1
            else:
                latencies.append(round((at - sent) * 1e6))
    missing = sum(max(0, expect - n) for n in receiver.events)
    for task in readers:
        task.cancel()
    print(
        json.dumps(
            {
                "latencies_us": latencies,
                "cpu_s": cpu,
                "wall_s": wall,
                "missing": missing,
                "unmatched": unmatched,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
