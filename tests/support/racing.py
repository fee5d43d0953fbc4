"""Racing many real connections at one moment: open them, hold them at a gate, release together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from psycopg import AsyncConnection

T = TypeVar("T")


async def open_connections(
    url: str, n: int, *, autocommit: bool = True
) -> list[AsyncConnection[Any]]:
    """n separate server connections, opened a few at a time so the postmaster is not swamped."""
    gate = asyncio.Semaphore(16)

    async def one() -> AsyncConnection[Any]:
        async with gate:
            return await AsyncConnection.connect(url, autocommit=autocommit)

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def close_all(conns: list[AsyncConnection[Any]]) -> None:
    await asyncio.gather(*(c.close() for c in conns))


async def release_together(
    conns: list[AsyncConnection[Any]],
    action: Callable[[int, AsyncConnection[Any]], Awaitable[T]],
) -> list[T]:
    """Start every racer, let each reach the gate with its connection open, then open the gate."""
    gate = asyncio.Event()
    all_waiting = asyncio.Event()
    waiting = 0

    async def racer(i: int, conn: AsyncConnection[Any]) -> T:
        nonlocal waiting
        waiting += 1
        if waiting == len(conns):
            all_waiting.set()
        await gate.wait()
        return await action(i, conn)

    tasks = [asyncio.create_task(racer(i, c)) for i, c in enumerate(conns)]
    await all_waiting.wait()
    gate.set()
    return list(await asyncio.gather(*tasks))


async def race(
    url: str, racers: int, action: Callable[[int, AsyncConnection[Any]], Awaitable[T]]
) -> list[T]:
    """`racers` connections of their own, released together on `action`, closed afterwards."""
    conns = await open_connections(url, racers)
    try:
        return await release_together(conns, action)
    finally:
        await close_all(conns)
