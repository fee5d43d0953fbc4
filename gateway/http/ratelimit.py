"""GCRA rate limits per user and per client IP, decided in process (no network trip per request)
and, with Redis, reconciled across gateway processes in the background.

GCRA keeps one number per key, the theoretical arrival time (TAT). A request at `now` is let
through when TAT - (burst - 1) * T <= now (T = 1 / rate); it then moves TAT to max(TAT, now) + T.

Sharing: every `sync_interval` a task sends Redis how many requests each key was granted here
since the last sync; one Lua call adds them to the key's shared TAT (`max(TAT, now) + n * T`) and
answers each key's shared TAT, which this process adopts when it is further ahead than its own.
So every grant of every process ends up in the shared TAT, and the processes spend one budget.
What a process grants before it hears of the others' spend is the price of no round trip: across
P processes, the grants in any window exceed one limiter's by at most (P - 1) x (burst + rate x
sync_interval). While Redis is unreachable each process limits on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from redis.exceptions import RedisError

from gateway.services.redisconn import OptionalRedis

log = logging.getLogger(__name__)

# KEYS: keys granted requests here. ARGV: T (ms), then each key's grant count.
# Returns, per key, how far its shared TAT is ahead of Redis's clock, in ms (as text).
SYNC_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local period = tonumber(ARGV[1])
local ahead = {}
for i, k in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', k) or '0')
  if tat < now then tat = now end
  tat = tat + tonumber(ARGV[i + 1]) * period
  redis.call('SET', k, tostring(tat), 'PX', math.ceil(tat - now) + 1)
  ahead[i] = tostring(tat - now)
end
return ahead
"""
PREFIX = "booking:rl:"
MAX_LOCAL_KEYS = 100_000
SYNC_BATCH = 1_000  # keys per Lua call


class RateLimiter:
    """`check(keys)` returns 0 when allowed, else the seconds to wait."""

    def __init__(
        self,
        redis: OptionalRedis,
        per_second: float,
        burst: int,
        use_redis: bool = True,
        sync_interval: float = 0.05,
    ) -> None:
        self.redis = redis
        self.enabled = per_second > 0
        self.period = 1.0 / per_second if per_second > 0 else 0.0
        self.burst = max(1, burst)
        self.use_redis = use_redis
        self.sync_interval = sync_interval
        self._tat: dict[str, float] = {}
        self._granted: dict[str, int] = {}  # grants since the last sync, per key
        self._script: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def shared(self) -> bool:
        return self.enabled and self.use_redis and self.redis.configured

    def check(self, keys: list[str]) -> float:
        if not self.enabled or not keys:
            return 0.0
        now = time.monotonic()
        if len(self._tat) > MAX_LOCAL_KEYS:
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        worst = 0.0
        new: list[float] = []
        for k in keys:
            tat = max(self._tat.get(k, 0.0), now)
            # tat - (burst - 1) * T, not tat + T - burst * T: adding and taking back T rounds, and
            # a first request (tat = now) could come out a hair above now and be refused
            allow_at = tat - (self.burst - 1) * self.period
            worst = max(worst, allow_at - now)
            new.append(tat + self.period)
        if worst > 0:
            return worst
        for k, tat in zip(keys, new, strict=True):
            self._tat[k] = tat
        if self.shared:
            for k in keys:
                self._granted[k] = self._granted.get(k, 0) + 1
        return 0.0

    def start(self) -> None:
        """Reconcile with Redis every `sync_interval` (only when limits are shared)."""
        if self.shared and self._task is None:
            self._task = asyncio.create_task(self._sync_forever(), name="ratelimit-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sync_interval)
            try:
                await self.sync()
            except Exception:  # the limiter must keep limiting; it does so locally meanwhile
                log.exception("rate-limit sync failed")

    async def sync(self) -> int:
        """Send this process's grants since the last sync; adopt the shared TATs. Returns the
        number of keys reconciled (0 without Redis, or when Redis failed: grants are kept for
        the next sync)."""
        client = self.redis.client()
        if client is None:  # down: each process limits on its own until it answers again
            self._granted.clear()
            return 0
        if not self._granted:
            return 0
        granted, self._granted = self._granted, {}
        items = list(granted.items())
        try:
            if self._script is None:
                self._script = client.register_script(SYNC_SCRIPT)
            while items:
                batch = items[:SYNC_BATCH]
                ahead = await self._script(
                    keys=[PREFIX + k for k, _ in batch],
                    args=[self.period * 1000.0, *(n for _, n in batch)],
                )
                now = time.monotonic()
                for (k, _), ms in zip(batch, ahead, strict=True):
                    shared = now + float(ms) / 1000.0
                    if shared > self._tat.get(k, 0.0):
                        self._tat[k] = shared
                del items[: len(batch)]
        except (RedisError, OSError, ValueError) as exc:
            self.redis.failed(exc)
            for k, n in items:  # not yet counted in Redis: keep them for the next sync
                self._granted[k] = self._granted.get(k, 0) + n
            return 0
        return len(granted)
