"""GCRA arithmetic of the in-process rate limiter: a fresh key's first request always passes.

The limiter once computed the earliest allowed time as TAT + T - burst * T: with burst 1 that
adds the period and takes it back, which rounds, and a fresh key's first request (TAT = now)
came out a hair after now and was refused (the 429 probe of tests/test_http_answers.py saw it
now and then: its second request then passed)."""

from __future__ import annotations

import asyncio
import uuid

from gateway.http.ratelimit import RateLimiter
from gateway.services.redisconn import OptionalRedis


def _limiter(per_second: float, burst: int) -> RateLimiter:
    return RateLimiter(OptionalRedis(None), per_second, burst, use_redis=False)


def test_the_first_request_of_a_fresh_key_passes_and_the_next_waits_a_period() -> None:
    async def run() -> None:
        for n in range(2_000):  # many instants: the rounding depended on the value of now
            limiter = _limiter(0.001, 1)
            assert await limiter.check([f"ip:{n}"]) == 0.0
            wait = await limiter.check([f"ip:{n}"])
            assert 999.0 < wait <= 1000.0

    asyncio.run(run())


def test_a_burst_of_three_lets_three_through_then_waits() -> None:
    async def run() -> None:
        limiter = _limiter(10.0, 3)
        assert [await limiter.check(["user:x"]) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert await limiter.check(["user:x"]) > 0.0

    asyncio.run(run())


def test_in_redis_too_the_first_request_of_a_fresh_key_passes(redis_url: str) -> None:
    async def run() -> None:
        redis = OptionalRedis(redis_url)
        limiter = RateLimiter(redis, 0.001, 1)
        prefix = f"gcra-test:{uuid.uuid4()}"
        for n in range(300):
            assert await limiter.check([f"{prefix}:{n}"]) == 0.0
            assert await limiter.check([f"{prefix}:{n}"]) > 999.0
        client = redis.client()
        assert client is not None
        await client.aclose()

    asyncio.run(run())
