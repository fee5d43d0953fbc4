"""What the listener does with each batch of events: fan out to subscribers, remember each
(service, day)'s version, drop the cache entries the events outdated, and have the days this
process had cached read again ahead of their readers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from uuid import UUID

from gateway.realtime.events import Event, availability_days, catalogue_services
from gateway.realtime.hub import Hub
from gateway.realtime.versions import VersionMap
from gateway.services.cache import AvailabilityCache

log = logging.getLogger(__name__)


class Relay:
    def __init__(
        self,
        hub: Hub,
        cache: AvailabilityCache,
        versions: VersionMap | None = None,
        refresh: Callable[[list[tuple[UUID, date]]], None] | None = None,
    ) -> None:
        self.hub = hub
        self.cache = cache
        # (service, day) -> id of the newest event that touched it, as far as this process has seen
        self.versions = versions if versions is not None else VersionMap()
        self.refresh = refresh  # reads outdated days this process had cached, ahead of readers
        self.events_relayed = 0
        self.invalidations = 0

    async def __call__(self, events: list[Event], shard: str = "") -> None:
        """`shard`: the shard whose log the events come from ("" with one database)."""
        self.hub.publish(events, shard)
        self.events_relayed += len(events)
        self.versions.apply(events)
        newest: dict[tuple[UUID, date], int] = {}
        services: set[UUID] = set()
        for event in events:
            for key in availability_days(event):
                newest[key] = max(newest.get(key, 0), event.id)
            services.update(catalogue_services(event))
        try:
            outdated = sorted((s, d, v) for (s, d), v in newest.items() if s not in services)
            cached = self.cache.drop_days(outdated)
            if cached and self.refresh is not None:
                self.refresh(cached)  # before the Redis round trip: readers join, not miss
            await self.cache.purge_days(outdated)
            if services:
                await self.cache.invalidate([f"service:{s}" for s in sorted(services)], "immediate")
            self.invalidations += len(newest) + len(services)
        except Exception:  # the relay must keep running; the cache is versioned anyway
            log.exception("cache invalidation failed")

    def version(self, service_id: UUID, day: date) -> int | None:
        return self.versions.version(service_id, day)
