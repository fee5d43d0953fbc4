"""Availability cache per (service, local day, resource filter), keyed by availability version.

Two layers: in process (always) and Redis (with REDIS_URL). Because the key carries the version
of the (service, day), a new event makes readers miss naturally; entries also expire after
CACHE_TIMEOUT and can be invalidated by tag (`service:<id>`, `resource:<id>`, `day:<date>`),
either immediately (entries deleted) or lazily (the tag's generation is bumped and older
entries are ignored when next read). The cache holds only free slots, never personal data, and
no write ever consults it: the database decides every hold and booking.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal
from uuid import UUID

from redis.exceptions import RedisError

from gateway.services.answer_cache import AnswerCache
from gateway.services.redisconn import OptionalRedis

Mode = Literal["immediate", "lazy"]
PREFIX = "booking:"
MAX_LOCAL_ENTRIES = 20_000
# The shape of the cached slot JSON (the members engine.AVAILABILITY builds), part of every key:
# bumped when the shape changes, so entries an older gateway left in Redis under a version that is
# still current are never served (2: time_zone, start_local, end_local added; 3: seats_left).
SLOT_SHAPE = 3

# KEYS[1] entry. Returns the value when every tag generation still matches, else nil.
GET_SCRIPT = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
local e = cjson.decode(v)
for tag, gen in pairs(e.g) do
  local cur = tonumber(redis.call('GET', ARGV[1] .. 'taggen:' .. tag) or '0')
  if cur ~= gen then redis.call('DEL', KEYS[1]); return false end
end
return e.v
"""
# KEYS[1] entry; ARGV prefix, value, ttl, tags...
SET_SCRIPT = """
local g = {}
local ttl = tonumber(ARGV[3])
for i = 4, #ARGV do
  local t = ARGV[i]
  g[t] = tonumber(redis.call('GET', ARGV[1] .. 'taggen:' .. t) or '0')
  redis.call('SADD', ARGV[1] .. 'tag:' .. t, KEYS[1])
  redis.call('EXPIRE', ARGV[1] .. 'tag:' .. t, ttl)
end
redis.call('SET', KEYS[1], cjson.encode({v = ARGV[2], g = g}), 'EX', ttl)
return 1
"""
# ARGV prefix, tags... : delete every entry of each tag now.
PURGE_SCRIPT = """
local n = 0
for i = 2, #ARGV do
  local set = ARGV[1] .. 'tag:' .. ARGV[i]
  local keys = redis.call('SMEMBERS', set)
  for _, k in ipairs(keys) do n = n + redis.call('DEL', k) end
  redis.call('DEL', set)
end
return n
"""

# ARGV prefix, then triples (tag a, tag b, version): for each, delete the entries carrying both
# tags (one service's one day) cached under an older version (a newer one may be another
# process's refresh, made before this purge arrived).
PURGE_DAYS_SCRIPT = """
local n = 0
for i = 2, #ARGV, 3 do
  local a, b = ARGV[1] .. 'tag:' .. ARGV[i], ARGV[1] .. 'tag:' .. ARGV[i + 1]
  local newest = tonumber(ARGV[i + 2])
  local keys = redis.call('SINTER', a, b)
  for _, k in ipairs(keys) do
    local v = tonumber(string.match(k, ':(%d+):s%d+$'))
    if v == nil or v < newest then
      n = n + redis.call('DEL', k)
      redis.call('SREM', a, k)
      redis.call('SREM', b, k)
    end
  end
end
return n
"""


@dataclass(frozen=True, slots=True)
class SlotKey:
    service_id: UUID
    day: date
    resource_id: UUID | None
    version: int

    def key(self) -> str:
        # the {service} hash tag keeps one service's entries in one Redis Cluster slot
        return (
            f"{PREFIX}avail:{{{self.service_id}}}:{self.day.isoformat()}:"
            f"{self.resource_id or 'any'}:{self.version}:s{SLOT_SHAPE}"
        )

    def tags(self, slots_json: str) -> list[str]:
        tags = {f"service:{self.service_id}", f"day:{self.day.isoformat()}"}
        if self.resource_id is not None:
            tags.add(f"resource:{self.resource_id}")
        for slot in json.loads(slots_json):
            tags.update(f"resource:{r}" for r in slot.get("resource_ids") or ())
        return sorted(tags)


@dataclass(slots=True)
class _Entry:
    value: str
    expires: float
    gens: dict[str, int]


@dataclass
class CacheStats:
    hits: Counter[str] = field(default_factory=Counter)
    misses: int = 0


class AvailabilityCache:
    """Two-layer cache of one day's free slots as JSON text."""

    def __init__(self, redis: OptionalRedis, ttl: int) -> None:
        self.redis = redis
        self.ttl = max(1, ttl)
        self._local: dict[str, _Entry] = {}
        self._tag_keys: dict[str, set[str]] = {}
        self._gens: dict[str, int] = {}
        self.popularity: Counter[UUID] = Counter()
        self.stats = CacheStats()
        self._scripts: dict[str, Any] = {}
        self.answers = AnswerCache(self.ttl)  # whole answers, encoded once per version
        # database reads of slots in progress, shared by the readers that miss at once
        self.flights: dict[Any, asyncio.Future[list[str]]] = {}

    def _script(self, source: str) -> Any:
        client = self.redis.client()
        if client is None:
            return None
        if source not in self._scripts:
            self._scripts[source] = client.register_script(source)
        return self._scripts[source]

    async def get(self, key: SlotKey) -> tuple[str, str] | None:
        """(value, layer) or None."""
        k = key.key()
        entry = self._local.get(k)
        if entry is not None:
            if entry.expires > time.monotonic() and all(
                self._gens.get(t, 0) == g for t, g in entry.gens.items()
            ):
                self.stats.hits["local"] += 1
                return entry.value, "local"
            self._drop_local(k)
        run = self._script(GET_SCRIPT)
        if run is not None:
            try:
                value = await run(keys=[k], args=[PREFIX])
            except (RedisError, OSError) as exc:
                self.redis.failed(exc)
                value = None
            if value is not None:
                text = value.decode() if isinstance(value, bytes) else str(value)
                self._put_local(k, text, key.tags(text))
                self.stats.hits["redis"] += 1
                return text, "redis"
        self.stats.misses += 1
        return None

    async def put(self, key: SlotKey, value: str) -> None:
        k = key.key()
        tags = key.tags(value)
        self._put_local(k, value, tags)
        run = self._script(SET_SCRIPT)
        if run is not None:
            try:
                await run(keys=[k], args=[PREFIX, value, self.ttl, *tags])
            except (RedisError, OSError) as exc:
                self.redis.failed(exc)

    async def invalidate(self, tags: list[str], mode: Mode) -> int:
        """Drop (immediate) or outdate (lazy) every entry carrying one of `tags`."""
        count = 0
        self.answers.outdate()
        client = self.redis.client()
        if mode == "lazy":
            for tag in tags:
                self._gens[tag] = self._gens.get(tag, 0) + 1
                count += len(self._tag_keys.get(tag, ()))
            if client is not None:
                try:
                    async with client.pipeline(transaction=False) as pipe:
                        for tag in tags:
                            pipe.incr(f"{PREFIX}taggen:{tag}")
                        await pipe.execute()
                except (RedisError, OSError) as exc:
                    self.redis.failed(exc)
            return count
        for tag in tags:
            for k in list(self._tag_keys.get(tag, ())):
                self._drop_local(k)
                count += 1
        run = self._script(PURGE_SCRIPT)
        if run is not None and tags:
            try:
                count = max(count, int(await run(keys=[], args=[PREFIX, *tags])))
            except (RedisError, OSError) as exc:
                self.redis.failed(exc)
        return count

    def _put_local(self, k: str, value: str, tags: list[str]) -> None:
        if len(self._local) >= MAX_LOCAL_ENTRIES:
            self._drop_local(next(iter(self._local)))
        self._local[k] = _Entry(
            value, time.monotonic() + self.ttl, {t: self._gens.get(t, 0) for t in tags}
        )
        for t in tags:
            self._tag_keys.setdefault(t, set()).add(k)

    def _drop_local(self, k: str) -> None:
        entry = self._local.pop(k, None)
        if entry is None:
            return
        for t in entry.gens:
            keys = self._tag_keys.get(t)
            if keys is not None:
                keys.discard(k)
                if not keys:
                    del self._tag_keys[t]

    def local_size(self) -> int:
        return len(self._local)

    async def invalidate_days(
        self, outdated: list[tuple[UUID, date, int]]
    ) -> list[tuple[UUID, date]]:
        """Drop the entries of each (service, day) cached under a version older than the one
        given, in both layers (an event outdates one day of a service, not the service's other
        days). Returns the (service, day) pairs this process had cached."""
        cached = self.drop_days(outdated)
        await self.purge_days(outdated)
        return cached

    def drop_days(self, outdated: list[tuple[UUID, date, int]]) -> list[tuple[UUID, date]]:
        """In this process: drop each (service, day)'s entries older than the version given.
        Returns the pairs that had entries: read here lately, worth reading again."""
        cached: list[tuple[UUID, date]] = []
        for service_id, day, version in outdated:
            doomed = self._tag_keys.get(f"service:{service_id}", set()) & self._tag_keys.get(
                f"day:{day.isoformat()}", set()
            )
            older = [k for k in doomed if int(k.rsplit(":", 2)[1]) < version]
            for k in older:
                self._drop_local(k)
            if older:
                cached.append((service_id, day))
        return cached

    async def purge_days(self, outdated: list[tuple[UUID, date, int]]) -> None:
        """In Redis, with one call for a batch: the same, for every gateway."""
        run = self._script(PURGE_DAYS_SCRIPT)
        if run is None or not outdated:
            return
        args = [PREFIX]
        for service_id, day, version in outdated:
            args += [f"service:{service_id}", f"day:{day.isoformat()}", str(version)]
        try:
            await run(keys=[], args=args)
        except (RedisError, OSError) as exc:
            self.redis.failed(exc)
