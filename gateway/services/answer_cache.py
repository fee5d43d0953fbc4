"""Availability answers encoded once per version: the body bytes and ETag of one query (service,
raw query string), kept with the versions of the days they were built from.

A reader whose days still have those versions gets the same bytes back without parsing its query
again, without the slot cache and without encoding JSON; a new version of any of its days makes
the entry useless (it is replaced on the next build). An explicit cache invalidation (by tag, or
a catalogue change) bumps `generation`, which outdates every entry. Entries live no longer than
the slot cache's (CACHE_TIMEOUT: free slots in the past disappear with time, not with events).
Bounded by entries and bytes, least recently used first out.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from uuid import UUID

MAX_ENTRIES = 4_096
MAX_BYTES = 32 * 1024 * 1024

Key = tuple[UUID, bytes]


@dataclass(frozen=True, slots=True)
class Answer:
    day: date
    days: int
    versions: tuple[int, ...]
    etag: str
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]  # raw response headers, ETag included
    generation: int
    expires: float  # time.monotonic()


class AnswerCache:
    def __init__(
        self, ttl: float, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self.ttl = ttl
        self.entries: OrderedDict[Key, Answer] = OrderedDict()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self.generation = 0

    def get(self, key: Key) -> Answer | None:
        answer = self.entries.get(key)
        if answer is None:
            return None
        if answer.generation != self.generation or answer.expires < time.monotonic():
            self._drop(key)
            return None
        self.entries.move_to_end(key)
        return answer

    def build(
        self,
        day: date,
        days: int,
        versions: tuple[int, ...],
        etag: str,
        body: bytes,
        generation: int,
    ) -> Answer:
        """An entry built by a read that began at `generation` (put ignores it if an
        invalidation came in between)."""
        headers = (
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            (b"etag", etag.encode()),
            (b"cache-control", b"no-cache"),
        )
        expires = time.monotonic() + self.ttl
        return Answer(day, days, versions, etag, body, headers, generation, expires)

    def put(self, key: Key, answer: Answer) -> None:
        if len(answer.body) > self.max_bytes // 8 or answer.generation != self.generation:
            return
        self._drop(key)
        self.entries[key] = answer
        self.bytes += len(answer.body)
        while len(self.entries) > self.max_entries or self.bytes > self.max_bytes:
            self._drop(next(iter(self.entries)))

    def outdate(self) -> None:
        """Every entry is stale (an explicit invalidation or a catalogue change)."""
        self.generation += 1
        self.entries.clear()
        self.bytes = 0

    def _drop(self, key: Key) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old.body)
