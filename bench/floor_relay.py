"""The floor of the realtime benchmark: the least any Python relay on this machine must pay.

A websocket server (the `websockets` library, uvloop) that answers `subscribe` with `subscribed`
and, on each NOTIFY on the channel `bench_floor`, writes one frame, built once from the
notification's payload (a hold id), to every subscriber's transport: no database read, no topic
matching, no per-subscriber work beyond the write. The realtime family measures it with the same
writer and subscriber processes as the gateway, and reports the gateway's p99 as a ratio to it.

Run: `python -m bench.floor_relay PORT DATABASE_URL`; prints "ready" when listening.
"""

from __future__ import annotations

import asyncio
import json
import sys

import psycopg
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Frame, Opcode

CHANNEL = "bench_floor"


async def main(port: int, database_url: str) -> None:
    subscribers: set[ServerConnection] = set()

    async def session(ws: ServerConnection) -> None:
        try:
            async for raw in ws:
                if json.loads(raw).get("type") == "subscribe":
                    await ws.send('{"type":"subscribed"}')
                    subscribers.add(ws)
        finally:
            subscribers.discard(ws)

    async with (
        serve(session, "127.0.0.1", port, subprotocols=["bearer"], compression=None),  # type: ignore[list-item]
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn,
    ):
        await conn.execute(f"listen {CHANNEL}")
        print("ready", flush=True)
        async for note in conn.notifies():
            message = json.dumps(
                {"type": "event", "event": "floor", "payload": {"reservation_id": note.payload}},
                separators=(",", ":"),
            )
            frame = Frame(Opcode.TEXT, message.encode()).serialize(mask=False, extensions=[])
            for ws in subscribers:
                if not ws.transport.is_closing():
                    ws.transport.write(frame)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
