"""What the listener does with each batch of events: fan out to subscribers, remember each
(service, day)'s version, and drop the cache entries the events outdated."""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import date
from uuid import UUID

from gateway.cache import AvailabilityCache
from gateway.realtime.events import Event, availability_days, catalogue_services
from gateway.realtime.hub import Hub

log = logging.getLogger(__name__)

MAX_VERSIONS = 100_000


class Relay:
    def __init__(self, hub: Hub, cache: AvailabilityCache) -> None:
        self.hub = hub
        self.cache = cache
        # (service, day) -> id of the newest event that touched it, as far as this process has seen
        self.versions: OrderedDict[tuple[UUID, date], int] = OrderedDict()
        self.events_relayed = 0
        self.invalidations = 0

    async def __call__(self, events: list[Event]) -> None:
        self.hub.publish(events)
        self.events_relayed += len(events)
        days: set[tuple[UUID, date]] = set()
        services: set[UUID] = set()
        for event in events:
            for key in availability_days(event):
                days.add(key)
                self.versions[key] = event.id
                self.versions.move_to_end(key)
            services.update(catalogue_services(event))
        while len(self.versions) > MAX_VERSIONS:
            self.versions.popitem(last=False)
        try:
            for service_id, day in sorted(days):
                if service_id not in services:
                    await self.cache.invalidate_day(service_id, day)
            if services:
                await self.cache.invalidate([f"service:{s}" for s in sorted(services)],
                                            "immediate")
            self.invalidations += len(days) + len(services)
        except Exception:  # the relay must keep running; the cache is versioned anyway
            log.exception("cache invalidation failed")

    def version(self, service_id: UUID, day: date) -> int | None:
        return self.versions.get((service_id, day))
