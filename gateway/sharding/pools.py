"""One connection pool, `Database` and `Engine` per shard, made the way the single database's
are (gateway/services/db.py), so whatever a `Database` does inside (retries, reachability) holds
for every shard alike. A shard whose URL is `DATABASE_URL` shares the home pool."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from psycopg_pool import AsyncConnectionPool

from gateway.config import Settings
from gateway.services.db import Database, Reachability, make_pool
from gateway.services.engine import Engine
from gateway.sharding.router import Shard


async def open_shards(settings: Settings, home: Shard) -> list[Shard]:
    """The shards of the directory, opened, in its order; [home] without a directory."""
    if settings.shards is None:
        return [home]
    shards: list[Shard] = []
    for name, url in settings.shards.shards.items():
        if url == settings.database_url:
            shards.append(Shard(name, home.db, home.engine))
            continue
        reachability = Reachability()
        pool = make_pool(dataclasses.replace(settings, database_url=url), reachability)
        db = Database(pool, settings.max_retries, reachability, settings.pool_down_timeout)
        shards.append(Shard(name, db, Engine(db)))
    await asyncio.gather(*(s.db.pool.open(wait=True) for s in shards if s.db is not home.db))
    return shards


async def close_shards(shards: list[Shard], home: AsyncConnectionPool[Any]) -> None:
    """Close every shard pool but the home one (the app closes that)."""
    await asyncio.gather(*(s.db.pool.close() for s in shards if s.db.pool is not home))
