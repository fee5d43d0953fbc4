"""Rate limits on /v1: one bucket per client address and one per authenticated subject; an
exhausted bucket is a 429 problem with Retry-After."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.http.problems import rate_limited
from gateway.state import Gateway

RATE_LIMITED_PREFIX = "/v1/"


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(RATE_LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        g: Gateway = scope["app"].state.gateway
        keys = [f"ip:{scope['client'][0] if scope.get('client') else '-'}"]
        principal = scope.get("state", {}).get("principal")
        if principal is not None:
            keys.append(f"user:{principal.sub}")
        wait = g.limiter.check(keys)
        if wait > 0:
            g.metrics.rate_limited.inc()
            await rate_limited(wait).response()(scope, receive, send)
            return
        await self.app(scope, receive, send)
