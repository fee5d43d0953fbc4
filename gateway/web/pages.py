"""The two HTML pages, /docs and /demo: static files of gateway/web/static/, documented in the
OpenAPI document like every other route."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from gateway.http.spec import Answer, RouteSpec
from gateway.web.assets import STATIC_DIR

HTML = {200: Answer("An HTML page", str, media_type="text/html")}


def page(name: str) -> Response:
    return FileResponse(STATIC_DIR / name, headers={"Cache-Control": "no-cache"})


async def docs(request: Request) -> Response:
    return page("docs.html")


async def demo(request: Request) -> Response:
    return page("demo.html")


SPECS = [
    RouteSpec(
        "GET",
        "/docs",
        docs,
        "This document as a web page: Swagger UI with try-it-out, and the websocket protocol",
        "operations",
        HTML,
        public=True,
        database=False,
    ),
    RouteSpec(
        "GET",
        "/demo",
        demo,
        "The live demo page: hold, book, release and cancel, and watch other clients take slots",
        "operations",
        HTML,
        public=True,
        database=False,
    ),
]
