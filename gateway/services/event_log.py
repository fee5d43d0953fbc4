"""The event log as the listener reads it, on its own LISTEN connection (not the pool): the only
SQL outside the engine, and like the engine's, only calls of `api` functions."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import class_row

from gateway.realtime.events import Event

CHANNEL = "booking_events"
READ = (
    "select id, type, topics, payload, created_at from api.read_events("
    "p_after => %(after)s::bigint, p_limit => %(limit)s::int, p_topics => %(topics)s::text[])"
)
# the same, no further than a bound read on the primary (for a read on a replica)
READ_UP_TO = READ + " where id <= %(bound)s::bigint order by id"

Conn = psycopg.AsyncConnection[Any]


async def listen(conn: Conn) -> None:
    """Be woken by every NOTIFY on the event channel."""
    await conn.execute(f"LISTEN {CHANNEL}")


async def last_event_id(conn: Conn) -> int:
    """The newest readable id: where a new reader starts."""
    row = await (await conn.execute("select api.last_event_id()")).fetchone()
    return int(row[0]) if row else 0


async def newest_event_id(conn: Conn) -> int:
    """The newest committed id, readable yet or not."""
    row = await (await conn.execute("select api.newest_event_id()")).fetchone()
    return int(row[0]) if row else 0


async def read_events(conn: Conn, after: int, limit: int) -> list[Event]:
    """Up to `limit` readable events after `after`, in id order."""
    cur = conn.cursor(row_factory=class_row(Event))
    await cur.execute(READ, {"after": after, "limit": limit, "topics": None})
    return await cur.fetchall()
