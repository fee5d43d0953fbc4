"""Operations: /health, /ready (database, listener, Redis), /metrics, /openapi.json, /docs."""

from __future__ import annotations

import html
import json

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from gateway.http.metrics import CONTENT_TYPE
from gateway.http.openapi import openapi_document
from gateway.state import gateway

DOCS_CSS = (
    "body{font-family:sans-serif;max-width:70em;margin:2em auto}"
    "td{padding:.2em .8em;border-bottom:1px solid #ddd}"
    "pre{background:#f6f6f6;padding:1em;overflow:auto}"
)


async def health(request: Request) -> Response:
    """Liveness plus the database's own health report (`api.health()`)."""
    g = gateway(request)
    return JSONResponse({"status": "ok", "database": await g.engine.health()})


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
    body = {
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
    return JSONResponse(openapi_document())


async def docs(request: Request) -> Response:
    doc = openapi_document()
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
