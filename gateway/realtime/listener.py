"""The process's one LISTEN connection. NOTIFY is only a wake-up: the event log is the record.

On each wake-up the listener reads every readable event after the last id it handled, in id order,
and hands each batch to `on_events`. Only one committing transaction at a time sends NOTIFY, and an
event is readable only once no transaction with a smaller id is still committing, so a wake-up is
followed by quick
re-reads (`followup_seconds` apart) until the notified id has been read and a re-read finds
nothing; when idle it still reads every `poll_seconds`. So an event whose transaction sent no
NOTIFY is delivered within a follow-up when commits are close together, at worst `poll_seconds`.
When the connection drops it reconnects with backoff and reads on from the same id: nothing
lost, nothing twice."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import psycopg

from gateway.realtime.events import Event
from gateway.services import event_log

log = logging.getLogger(__name__)

ListenerStatus = Literal["starting", "ok", "degraded", "stopped"]
BACKOFF_BASE = 0.05
BACKOFF_CAP = 5.0


class Listener:
    def __init__(
        self,
        database_url: str,
        on_events: Callable[[list[Event]], Awaitable[None]],
        on_status: Callable[[ListenerStatus], None],
        *,
        app_name: str,
        poll_seconds: float,
        batch: int,
        followup_seconds: float = 0.005,
    ) -> None:
        self.database_url = database_url
        self.on_events = on_events
        self.on_status = on_status
        self.app_name = app_name
        self.poll_seconds = poll_seconds
        self.followup_seconds = followup_seconds
        self.batch = batch
        self.last_id: int | None = None
        self.notified_id = 0  # the newest id a NOTIFY named: read again soon until it is read
        self.status: ListenerStatus = "starting"
        self.reconnects = 0
        self.connected = asyncio.Event()
        # reads of the log begun and finished (a finished one has seen every event committed
        # before it began), and when the last one finished: what `caught_up` judges
        self.drains_started = 0
        self.drains_done = 0
        # reads begun but not yet complete: (ticket, newest committed id when the read began)
        self.unfinished: deque[tuple[int, int]] = deque()
        self.drained_at = 0.0
        self.stale_after = 2 * poll_seconds + 1.0

    def caught_up(self, fence: int = 0) -> bool:
        """Connected, a read finished within the last `stale_after` seconds (it reads at least
        every `poll_seconds`), and a read that began at or after `fence` has finished having read
        every event committed before it began."""
        return (
            self.status == "ok"
            and self.drains_done >= fence
            and time.monotonic() - self.drained_at <= self.stale_after
        )

    def _set(self, status: ListenerStatus) -> None:
        self.status = status
        self.on_status(status)

    async def run(self) -> None:
        """Listen until cancelled, reconnecting after every failure."""
        failures = 0
        while True:
            try:
                async with await self._connect() as conn:
                    failures = 0
                    await self._serve(conn)
            except asyncio.CancelledError:
                self._set("stopped")
                raise
            except (psycopg.Error, OSError) as exc:
                failures += 1
                self.reconnects += 1
                self.connected.clear()
                self._set("degraded")
                delay = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**failures))
                log.warning("listener connection lost (%s); reconnecting in %.2f s", exc, delay)
                await asyncio.sleep(delay)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self.database_url,
            autocommit=True,
            application_name=self.app_name,
            options="-c TimeZone=UTC",
            connect_timeout=5,
        )

    async def _serve(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await event_log.listen(conn)
        if self.last_id is None:
            self.last_id = await event_log.last_event_id(conn)
        await self._drain(conn)  # what was missed while disconnected
        self.connected.set()
        self._set("ok")
        follow_up = False
        while True:
            assert self.last_id is not None
            soon = follow_up or self.notified_id > self.last_id
            woken = False
            async for note in conn.notifies(
                timeout=self.followup_seconds if soon else self.poll_seconds, stop_after=1
            ):
                woken = True
                if note.payload.isdigit():
                    self.notified_id = max(self.notified_id, int(note.payload))
            handled = await self._drain(conn)
            # after a wake-up or a read that found events, read once more shortly: a transaction
            # that committed meanwhile without notifying is delivered then
            follow_up = woken or handled > 0

    async def _drain(self, conn: psycopg.AsyncConnection[Any]) -> int:
        """Read and hand on every readable event after last_id; return how many. A read counts
        as done (for `caught_up`) once the listener has read up to the newest event committed
        when it began: one not readable yet (a smaller id is still committing) comes with a
        follow-up read, which then completes the earlier read too."""
        self.drains_started += 1
        ticket = self.drains_started
        # before reading: what this read must reach
        self.unfinished.append((ticket, await event_log.newest_event_id(conn)))
        handled = await self._read_all(conn)
        assert self.last_id is not None
        while self.unfinished and self.unfinished[0][1] <= self.last_id:
            self.drains_done = self.unfinished.popleft()[0]
            self.drained_at = time.monotonic()
        if self.unfinished:
            self.notified_id = max(self.notified_id, self.unfinished[-1][1])  # read again soon
        return handled

    async def _read_all(self, conn: psycopg.AsyncConnection[Any]) -> int:
        handled = 0
        while True:
            assert self.last_id is not None
            events = await event_log.read_events(conn, self.last_id, self.batch)
            if not events:
                return handled
            self.last_id = events[-1].id
            handled += len(events)
            await self.on_events(events)
            if len(events) < self.batch:
                return handled
