"""Request latency per method, route template and status."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.state import Gateway


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, templates: Callable[[], dict[Any, str]]) -> None:
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            g: Gateway = scope["app"].state.gateway
            route = self.templates().get(scope.get("endpoint"), "unmatched")
            g.metrics.latency.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
