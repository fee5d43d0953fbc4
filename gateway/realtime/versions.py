"""The version map: (service, local day) -> availability version, kept current by the listener,
so that a cached availability read needs no SQL at all while the listener is healthy.

Rules that keep it correct (a screen may be stale by the listener's lag, never wrong for writes,
which always go to the database):
- the map is trusted only while the listener is connected and caught up (`Feed.caught_up`), and
  not until the listener has read the log again after this process's own last write (the fence),
  so a client reads its own writes; otherwise every read asks the database;
- a request carrying a `Booking-Consistency` token (a write it made, perhaps through another
  gateway, whose events this process's listener may not have read yet) always asks the database;
- an event sets each (service, day) it touches to its id (ids come in commit order, so the newest
  event is the version, `api.availability_version`); a catalogue change clears the map, because
  its topics cannot name the services it removed;
- a (service, day) not in the map is read from the database once and recorded, unless the map was
  cleared or trimmed meanwhile (the generation changed): the value could predate that change.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol
from uuid import UUID

from gateway.realtime.events import Event, availability_days
from gateway.services.consistency import request_fence
from gateway.services.engine import DayVersion

MAX_ENTRIES = 100_000
CATALOGUE_PREFIXES = ("location:", "service:")

Key = tuple[UUID, date]


class Feed(Protocol):
    """What the map needs to know about the listener that feeds it."""

    drains_started: int

    def caught_up(self, fence: int) -> bool:
        """Connected, read recently, and a read that began at or after `fence` has finished."""
        ...


class VersionMap:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.entries: OrderedDict[Key, int] = OrderedDict()
        self.max_entries = max_entries
        self.generation = 0  # bumped whenever entries disappear (catalogue change, trimming)
        self.fence = 0
        self.feed: Feed | None = None

    def trusted(self) -> bool:
        return self.feed is not None and self.feed.caught_up(self.fence)

    def lookup(self, service_id: UUID, day: date, days: int) -> list[DayVersion] | None:
        """Each day's version when the map is trusted and knows every day, and the current
        request carries no read fence; else None."""
        if not self.trusted() or request_fence():
            return None
        found: list[DayVersion] = []
        for n in range(days):
            on = day if n == 0 else day + timedelta(days=n)
            version = self.entries.get((service_id, on))
            if version is None:
                return None
            found.append(DayVersion(on, version))
        return found

    def record(self, service_id: UUID, versions: Iterable[DayVersion], generation: int) -> None:
        """Versions read from the database by a read that began at `generation`."""
        if generation != self.generation:
            return
        for v in versions:
            if v.version > 0:
                self._raise((service_id, v.day), v.version)
        self._trim()

    def apply(self, events: Iterable[Event]) -> None:
        """The relay's call for each batch of events, in commit order."""
        for event in events:
            if any(t.startswith(CATALOGUE_PREFIXES) for t in event.topics):
                self.clear()
            for key in availability_days(event):
                self._raise(key, event.id)
        self._trim()

    def written(self) -> None:
        """This process committed a write: trust the map again only after the listener's next
        read, which sees that write's events."""
        if self.feed is not None:
            self.fence = self.feed.drains_started + 1

    def clear(self) -> None:
        self.entries.clear()
        self.generation += 1

    def version(self, service_id: UUID, day: date) -> int | None:
        return self.entries.get((service_id, day))

    def _raise(self, key: Key, version: int) -> None:
        old = self.entries.get(key)
        if old is None or version > old:
            self.entries[key] = version
            self.entries.move_to_end(key)

    def _trim(self) -> None:
        if len(self.entries) > self.max_entries:
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
            self.generation += 1
