"""Operations: /health, /ready (database, listener, Redis), /metrics, /openapi.json. (/docs, the
document as a web page, is in gateway/web/pages.py.)"""

from __future__ import annotations

import asyncio
from typing import Any, Literal, TypedDict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.http.metrics import CONTENT_TYPE
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import served_document
from gateway.services.results import Health
from gateway.state import gateway


class Alive(TypedDict):
    status: Literal["ok"]
    database: Health


class CacheState(TypedDict):
    local_entries: int


class VersionMapState(TypedDict):
    trusted: bool
    entries: int


class Readiness(TypedDict):
    status: str  # ready, degraded or unavailable
    database: str  # ok or down
    redis: str
    listener: str
    cache: CacheState
    versions: VersionMapState


async def health(request: Request) -> Response:
    """Liveness plus the database's own health report (`api.health()`)."""
    g = gateway(request)
    alive: Alive = {"status": "ok", "database": await g.engine.health()}
    return JSONResponse(alive)


async def ready(request: Request) -> Response:
    g = gateway(request)
    # with shards: every shard (and the home database) must answer
    databases = {g.db, *(s.db for s in g.router.shards)}
    pings = await asyncio.gather(*(db.ping() for db in databases))
    database = "ok" if all(pings) else "down"
    redis = await g.redis.status()
    listener = getattr(request.app.state, "listener_status", "absent")
    if database != "ok":
        status = "unavailable"
    elif redis == "degraded" or listener == "degraded":
        status = "degraded"
    else:
        status = "ready"
    body: Readiness = {
        "status": status,
        "database": database,
        "redis": redis,
        "listener": listener,
        "cache": {"local_entries": g.cache.local_size()},
        "versions": {"trusted": g.versions.trusted(), "entries": len(g.versions.entries)},
    }
    return JSONResponse(body, status_code=503 if database != "ok" else 200)


async def metrics(request: Request) -> Response:
    g = gateway(request)
    return Response(g.metrics.render(), media_type=CONTENT_TYPE)


async def openapi(request: Request) -> Response:
    return JSONResponse(served_document(request))


SPECS = [
    RouteSpec(
        "GET",
        "/health",
        health,
        "Liveness and the database health report",
        "operations",
        {200: Answer("Alive", Alive)},
        sql="api.health",
        public=True,
    ),
    RouteSpec(
        "GET",
        "/ready",
        ready,
        "Readiness: database, listener, Redis (ok/degraded/absent)",
        "operations",
        {
            200: Answer("Ready or degraded", Readiness),
            503: Answer("The database is down", Readiness),
        },
        public=True,
        database=False,  # its 503 is the readiness report itself, not a problem
    ),
    RouteSpec(
        "GET",
        "/metrics",
        metrics,
        "Prometheus metrics",
        "operations",
        {200: Answer("Prometheus text format", str, media_type="text/plain")},
        public=True,
        database=False,
    ),
    RouteSpec(
        "GET",
        "/openapi.json",
        openapi,
        "This document (OpenAPI 3.1)",
        "operations",
        {200: Answer("The OpenAPI document", dict[str, Any])},
        public=True,
        database=False,
    ),
]
