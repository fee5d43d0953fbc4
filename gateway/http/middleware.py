"""The gateway's one middleware: verify the token once, rate-limit /v1, time every request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.auth import authenticate
from gateway.http.problems import Problem, rate_limited
from gateway.state import Gateway

RATE_LIMITED_PREFIX = "/v1/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class GatewayMiddleware:
    def __init__(self, app: ASGIApp, templates: Callable[[], dict[Any, str]]) -> None:
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        g: Gateway = scope["app"].state.gateway
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if scope["method"] not in SAFE_METHODS:  # a write has committed (or failed)
                    g.versions.written()
            await send(message)

        request = Request(scope)
        state = scope.setdefault("state", {})
        try:
            state["principal"] = authenticate(request, g.settings.jwt_secret)
        except Problem as problem:
            state["principal"] = None
            state["auth_problem"] = problem
        try:
            if scope["path"].startswith(RATE_LIMITED_PREFIX):
                keys = [f"ip:{scope['client'][0] if scope.get('client') else '-'}"]
                if state["principal"] is not None:
                    keys.append(f"user:{state['principal'].sub}")
                wait = await g.limiter.check(keys)
                if wait > 0:
                    g.metrics.rate_limited.inc()
                    await rate_limited(wait).response()(scope, receive, send_wrapper)
                    return
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self.templates().get(scope.get("endpoint"), "unmatched")
            g.metrics.latency.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
