"""The optional Redis connection, with a short circuit breaker: after an error Redis is skipped
for a moment, so a dead Redis costs one short timeout, not one per request."""

from __future__ import annotations

import logging
import time
from typing import Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RedisStatus = Literal["ok", "degraded", "absent"]
SOCKET_TIMEOUT = 0.25
BREAKER_SECONDS = 2.0


class OptionalRedis:
    """Redis when configured and answering; `client()` is None while absent or broken."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._client: aioredis.Redis | None = None
        if url:
            self._client = aioredis.Redis.from_url(
                url,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=SOCKET_TIMEOUT,
                health_check_interval=0,
                retry_on_timeout=False,
            )
        self._down_until = 0.0

    @property
    def configured(self) -> bool:
        """A Redis URL was given (whether or not it answers now)."""
        return self._client is not None

    def client(self) -> aioredis.Redis | None:
        if self._client is None or time.monotonic() < self._down_until:
            return None
        return self._client

    def failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._down_until:
            log.warning(
                "redis unavailable, serving without it for %.0f s: %s", BREAKER_SECONDS, exc
            )
        self._down_until = time.monotonic() + BREAKER_SECONDS

    async def status(self) -> RedisStatus:
        if self._client is None:
            return "absent"
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            self.failed(exc)
            return "degraded"
        self._down_until = 0.0
        return "ok"

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
