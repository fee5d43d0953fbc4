"""GCRA rate limits per user and per client IP: in Redis (one Lua call checks every key of a
request) when Redis is there, in process otherwise or while Redis is down.

GCRA keeps one number per key, the theoretical arrival time (TAT). A request at `now` is let
through when TAT - (burst - 1) * T <= now (T = 1 / rate); it then moves TAT to max(TAT, now) + T.
"""

from __future__ import annotations

import time
from typing import Any

from redis.exceptions import RedisError

from gateway.services.redisconn import OptionalRedis

# KEYS: the keys of one request. ARGV: T (ms), burst. Returns '0' or the wait in ms as text.
GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local worst = 0
local tats = {}
for i, k in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', k) or '0')
  if tat < now then tat = now end
  local allow_at = tat - (burst - 1) * period
  if allow_at > now and allow_at - now > worst then worst = allow_at - now end
  tats[i] = tat + period
end
if worst > 0 then return tostring(worst) end
for i, k in ipairs(KEYS) do
  redis.call('SET', k, tostring(tats[i]), 'PX', math.ceil(tats[i] - now) + 1)
end
return '0'
"""
PREFIX = "booking:rl:"
MAX_LOCAL_KEYS = 100_000


class RateLimiter:
    """`check(keys)` returns 0 when allowed, else the seconds to wait."""

    def __init__(
        self, redis: OptionalRedis, per_second: float, burst: int, use_redis: bool = True
    ) -> None:
        self.redis = redis
        self.enabled = per_second > 0
        self.period = 1.0 / per_second if per_second > 0 else 0.0
        self.burst = max(1, burst)
        self.use_redis = use_redis
        self._tat: dict[str, float] = {}
        self._script: Any = None

    async def check(self, keys: list[str]) -> float:
        if not self.enabled or not keys:
            return 0.0
        client = self.redis.client() if self.use_redis else None
        if client is not None:
            try:
                if self._script is None:
                    self._script = client.register_script(GCRA_SCRIPT)
                wait_ms = await self._script(
                    keys=[PREFIX + k for k in keys], args=[self.period * 1000.0, self.burst]
                )
                return float(wait_ms) / 1000.0
            except (RedisError, OSError, ValueError) as exc:
                self.redis.failed(exc)
        return self._check_local(keys)

    def _check_local(self, keys: list[str]) -> float:
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
        return 0.0
