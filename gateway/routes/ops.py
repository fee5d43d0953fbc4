"""Operations: /health, /ready (database, listener, Redis), /metrics, /openapi.json, /docs."""

from __future__ import annotations

import html
import json
from typing import Any, Literal, TypedDict

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from gateway.http.metrics import CONTENT_TYPE
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import served_document
from gateway.services.results import Health
from gateway.state import gateway

DOCS_CSS = (
    "body{font-family:sans-serif;max-width:70em;margin:2em auto}"
    "td{padding:.2em .8em;border-bottom:1px solid #ddd}"
    "pre{background:#f6f6f6;padding:1em;overflow:auto}"
)


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
    database = "ok" if await g.db.ping() else "down"
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


async def docs(request: Request) -> Response:
    doc = served_document(request)
    rows = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code>"
                f"</td><td>{html.escape(op.get('summary', ''))}</td></tr>"
            )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(doc['info']['title'])}</title><style>{DOCS_CSS}</style></head><body>"
        f"<h1>{html.escape(doc['info']['title'])}</h1>"
        f"<p>{html.escape(doc['info']['description'])}</p>"
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a></p>"
        "<table>"
        + "".join(rows)
        + "</table><h2>Document</h2><pre>"
        + html.escape(json.dumps(doc, indent=2))
        + "</pre></body></html>"
    )
    return HTMLResponse(page)


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
    RouteSpec(
        "GET",
        "/docs",
        docs,
        "This document as a web page",
        "operations",
        {200: Answer("An HTML page", str, media_type="text/html")},
        public=True,
        database=False,
    ),
]
