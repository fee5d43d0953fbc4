"""The realtime service of one gateway process: hub, relay, listener and heartbeat
tasks, started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from gateway.realtime.config import RealtimeSettings
from gateway.realtime.hub import Hub
from gateway.realtime.listener import Listener, ListenerStatus
from gateway.realtime.relay import Relay
from gateway.realtime.versions import VersionMap
from gateway.realtime.wsprotocol import text_frame
from gateway.services.cache import AvailabilityCache
from gateway.services.engine import Engine

log = logging.getLogger(__name__)

HEARTBEAT = text_frame('{"type":"heartbeat"}')


class Realtime:
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
    ) -> None:
        self.settings = settings or RealtimeSettings.from_env()
        self.engine = engine
        self.jwt_secret = jwt_secret
        self.hub = Hub()
        self.versions = versions if versions is not None else VersionMap()
        self.relay = Relay(self.hub, cache, self.versions, refresh)
        self._state = state
        self.listener = Listener(
            database_url,
            self.relay,
            self._status,
            app_name=self.settings.listener_app_name,
            poll_seconds=self.settings.poll_seconds,
            followup_seconds=self.settings.followup_seconds,
            batch=self.settings.batch,
        )
        self.versions.feed = self.listener
        self._tasks: list[asyncio.Task[None]] = []

    def _status(self, status: ListenerStatus) -> None:
        self._state.listener_status = status

    async def start(self, wait: float = 10.0) -> None:
        self._status("starting")
        self._tasks = [
            asyncio.create_task(self.listener.run(), name="booking-listener"),
            asyncio.create_task(self._heartbeat(), name="booking-heartbeat"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listener.connected.wait(), wait)

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
