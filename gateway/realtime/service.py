"""The realtime service of one gateway process: hub, relay, listener and heartbeat
tasks, started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from uuid import UUID

from gateway.realtime.config import RealtimeSettings
from gateway.realtime.events import Event
from gateway.realtime.hub import Hub
from gateway.realtime.listener import Listener, ListenerStatus
from gateway.realtime.relay import Relay
from gateway.realtime.session import ShardOf
from gateway.realtime.versions import VersionMap
from gateway.realtime.wsprotocol import text_frame
from gateway.services.cache import AvailabilityCache
from gateway.services.engine import Engine

log = logging.getLogger(__name__)

HEARTBEAT = text_frame('{"type":"heartbeat"}')


class Realtime:
    """`shards` (name, database URL), with sharding by location: one listener per shard, all
    feeding the one hub and cache; the version map then stays untrusted (every availability read
    asks its shard for versions), as its fence follows one listener only. `shard_of` says which
    shard's log a `since` replay of a topic reads."""

    def __init__(
        self,
        database_url: str,
        engine: Engine,
        cache: AvailabilityCache,
        jwt_secret: str,
        state: Any,
        settings: RealtimeSettings | None = None,
        versions: VersionMap | None = None,
        refresh: Callable[[list[tuple[UUID, date]]], None] | None = None,
        shards: list[tuple[str, str]] | None = None,
        shard_of: ShardOf | None = None,
    ) -> None:
        self.settings = settings or RealtimeSettings.from_env()
        self.engine = engine
        self.jwt_secret = jwt_secret
        self.hub = Hub()
        self.versions = versions if versions is not None else VersionMap()
        self.relay = Relay(self.hub, cache, self.versions, refresh)
        self._state = state
        self.sharded = shards is not None
        self.shard_of = shard_of  # with shards: where a `since` replay of a topic reads
        self.listeners = [
            self._listener(url, self.relay if name is None else self._shard_relay(name))
            for name, url in (shards if shards is not None else [(None, database_url)])
        ]
        self.listener = self.listeners[0]
        if not self.sharded:
            self.versions.feed = self.listener
        self._tasks: list[asyncio.Task[None]] = []

    def _listener(self, url: str, on_events: Callable[[list[Event]], Awaitable[None]]) -> Listener:
        return Listener(
            url,
            on_events,
            self._status,
            app_name=self.settings.listener_app_name,
            poll_seconds=self.settings.poll_seconds,
            followup_seconds=self.settings.followup_seconds,
            batch=self.settings.batch,
        )

    def _shard_relay(self, name: str) -> Callable[[list[Event]], Awaitable[None]]:
        async def relay(events: list[Event]) -> None:
            await self.relay(events, name)

        return relay

    def _status(self, status: ListenerStatus) -> None:
        if self.sharded:  # ok only when every shard's listener is
            statuses = {listener.status for listener in getattr(self, "listeners", [])}
            for worst in ("stopped", "degraded", "starting"):
                if worst in statuses:
                    status = worst
                    break
        self._state.listener_status = status

    async def start(self, wait: float = 10.0) -> None:
        self._status("starting")
        self._tasks = [
            *(
                asyncio.create_task(
                    listener.run(), name="booking-listener" if n == 0 else f"booking-listener-{n}"
                )
                for n, listener in enumerate(self.listeners)
            ),
            asyncio.create_task(self._heartbeat(), name="booking-heartbeat"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(listener.connected.wait() for listener in self.listeners)), wait
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for sub in list(self.hub.subscribers):
            sub.close(1001)
        self._status("stopped")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            self.hub.broadcast(HEARTBEAT)
