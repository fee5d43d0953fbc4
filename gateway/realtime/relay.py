"""What the listener does with each batch of events: fan out to subscribers, remember each
(service, day)'s version, and drop the cache entries the events outdated."""

from __future__ import annotations

import logging
from datetime import date
from uuid import UUID

from gateway.realtime.events import Event, availability_days, catalogue_services
from gateway.realtime.hub import Hub
from gateway.realtime.versions import VersionMap
from gateway.services.cache import AvailabilityCache

log = logging.getLogger(__name__)


class Relay:
    def __init__(
        self, hub: Hub, cache: AvailabilityCache, versions: VersionMap | None = None
    ) -> None:
        self.hub = hub
        self.cache = cache
        # (service, day) -> id of the newest event that touched it, as far as this process has seen
        self.versions = versions if versions is not None else VersionMap()
        self.events_relayed = 0
        self.invalidations = 0

    async def __call__(self, events: list[Event], shard: str = "") -> None:
        """`shard`: the shard whose log the events come from ("" with one database)."""
        self.hub.publish(events, shard)
        self.events_relayed += len(events)
        self.versions.apply(events)
        days: set[tuple[UUID, date]] = set()
        services: set[UUID] = set()
        for event in events:
            days.update(availability_days(event))
            services.update(catalogue_services(event))
        try:
            await self.cache.invalidate_days(sorted(d for d in days if d[0] not in services))
            if services:
                await self.cache.invalidate([f"service:{s}" for s in sorted(services)], "immediate")
            self.invalidations += len(days) + len(services)
        except Exception:  # the relay must keep running; the cache is versioned anyway
            log.exception("cache invalidation failed")

    def version(self, service_id: UUID, day: date) -> int | None:
        return self.versions.version(service_id, day)
