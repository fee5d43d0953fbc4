"""The rate limiter: GCRA arithmetic (a fresh key's first request always passes), and budgets
shared across processes through Redis without a round trip per request.

The limiter once computed the earliest allowed time as TAT + T - burst * T: with burst 1 that
adds the period and takes it back, which rounds, and a fresh key's first request (TAT = now)
came out a hair after now and was refused (the 429 probe of tests/test_http_answers.py saw it
now and then: its second request then passed)."""

from __future__ import annotations

import asyncio
import time
import uuid

from gateway.http.ratelimit import RateLimiter
from gateway.services.redisconn import OptionalRedis


def _limiter(per_second: float, burst: int) -> RateLimiter:
    return RateLimiter(OptionalRedis(None), per_second, burst, use_redis=False)


def test_the_first_request_of_a_fresh_key_passes_and_the_next_waits_a_period() -> None:
    for n in range(2_000):  # many instants: the rounding depended on the value of now
        limiter = _limiter(0.001, 1)
        assert limiter.check([f"ip:{n}"]) == 0.0
        wait = limiter.check([f"ip:{n}"])
        assert 999.0 < wait <= 1000.0


def test_a_burst_of_three_lets_three_through_then_waits() -> None:
    limiter = _limiter(10.0, 3)
    assert [limiter.check(["user:x"]) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check(["user:x"]) > 0.0


def test_a_process_adopts_what_the_others_granted_at_its_next_sync(redis_url: str) -> None:
    async def run() -> None:
        redis = OptionalRedis(redis_url)
        a, b = RateLimiter(redis, 1.0, 5), RateLimiter(redis, 1.0, 5)
        key = f"user:{uuid.uuid4()}"
        assert [a.check([key]) for _ in range(5)] == [0.0] * 5
        assert await a.sync() == 1
        # b has not heard of a's burst yet: its first grant is the documented overshoot
        assert b.check([key]) == 0.0
        assert await b.sync() == 1
        # now b knows the shared state: 6 granted at 1/s with a burst of 5 -> about 2 s to wait
        wait = b.check([key])
        assert 1.5 < wait <= 2.0
        assert await b.sync() == 0, "nothing granted since the last sync: nothing sent"
        await redis.close()

    asyncio.run(run())


def test_three_processes_sharing_redis_spend_about_one_budget(redis_url: str) -> None:
    """Three limiters (as three gateway processes) syncing every 20 ms, one key asked for 30 times
    a second's worth of its rate: together they let through one limiter's budget plus at most the
    documented overshoot, (P - 1) x (burst + rate x sync interval); three separate limiters would
    let through three budgets."""
    rate, burst, interval, processes = 100.0, 10, 0.02, 3

    async def run() -> tuple[int, float]:
        redis = OptionalRedis(redis_url)
        limiters = [RateLimiter(redis, rate, burst, sync_interval=interval) for _ in range(3)]
        for limiter in limiters:
            limiter.start()
        key = f"ip:{uuid.uuid4()}"
        granted = 0
        began = time.monotonic()
        while time.monotonic() - began < 1.5:
            for limiter in limiters:
                granted += limiter.check([key]) == 0.0
            await asyncio.sleep(0.001)
        elapsed = time.monotonic() - began
        for limiter in limiters:
            await limiter.stop()
        await redis.close()
        return granted, elapsed

    granted, elapsed = asyncio.run(run())
    one_budget = burst + rate * elapsed
    # the interval doubled: a sync may start late on a busy event loop
    overshoot = (processes - 1) * (burst + rate * 2 * interval)
    assert granted <= one_budget + overshoot, (granted, one_budget, overshoot)
    assert granted >= 0.8 * rate * elapsed, "sharing must not double-count a process's grants"
    assert granted < processes * rate * elapsed * 0.7, "three separate budgets would pass this"


def test_while_redis_is_unreachable_each_process_limits_on_its_own() -> None:
    async def run() -> None:
        redis = OptionalRedis("redis://127.0.0.1:1/0")  # nothing listens on port 1
        limiter = RateLimiter(redis, 1.0, 2)
        assert [limiter.check(["user:x"]) for _ in range(3)][:2] == [0.0, 0.0]
        assert await limiter.sync() == 0, "an unreachable Redis is a failed sync, not an error"
        assert limiter.check(["user:x"]) > 0.0, "the local budget still holds"
        await redis.close()

    asyncio.run(run())
