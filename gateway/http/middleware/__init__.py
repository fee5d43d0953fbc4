"""The gateway's middleware, one concern per module, outermost first: metrics (times every
request), CORS (only with allowed origins configured; answers preflights), write fence (a write's
own process reads its effect), authentication (verifies the token once), rate limiting (/v1
only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.middleware import Middleware

from gateway.http.middleware.authentication import AuthenticationMiddleware
from gateway.http.middleware.cors import cors
from gateway.http.middleware.fence import WriteFenceMiddleware
from gateway.http.middleware.metrics import MetricsMiddleware
from gateway.http.middleware.ratelimit import RateLimitMiddleware


def middleware_stack(
    templates: Callable[[], dict[Any, str]], cors_origins: tuple[str, ...] = ()
) -> list[Middleware]:
    """The stack in order, outermost first."""
    return [
        Middleware(MetricsMiddleware, templates=templates),
        *([cors(cors_origins)] if cors_origins else []),
        Middleware(WriteFenceMiddleware),
        Middleware(AuthenticationMiddleware),
        Middleware(RateLimitMiddleware),
    ]
