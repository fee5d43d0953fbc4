"""The Starlette application: one connection pool, opened and closed by the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.config import Settings


async def health(request: Request) -> JSONResponse:
    """Liveness plus the database's own health report (`api.health()`)."""
    pool: AsyncConnectionPool[Any] = request.app.state.pool
    async with pool.connection() as conn:
        cur = await conn.execute("select api.health()")
        row = await cur.fetchone()
    return JSONResponse({"status": "ok", "database": row[0] if row else None})


def create_app(settings: Settings | None = None) -> Starlette:
    cfg = settings or Settings.from_env()
    if not cfg.database_url:
        raise RuntimeError("DATABASE_URL is not set; run `booking serve` to start one")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            cfg.database_url or "",
            min_size=cfg.pool_min_size,
            max_size=cfg.pool_max_size,
            open=False,
        )
        await pool.open(wait=True)
        app.state.pool = pool
        app.state.settings = cfg
        try:
            yield
        finally:
            await pool.close()

    return Starlette(routes=[Route("/health", health)], lifespan=lifespan)
