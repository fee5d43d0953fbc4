"""CORS for browser apps on other origins: Starlette's CORSMiddleware, configured from
BOOKING_CORS_ORIGINS (exact origins, `scheme://host:*` for any port, or `*`).

Preflights are answered here, before authentication and rate limits; an actual request gets
`Access-Control-Allow-Origin` for an allowed origin, and `Vary: Origin` whenever the answer
depends on the origin. Tokens travel in the Authorization header, never in cookies, so
credentials mode is off."""

from __future__ import annotations

import re

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

# what a browser app sends and reads beyond the CORS-safelisted headers
REQUEST_HEADERS = (
    "Authorization",
    "Booking-Consistency",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Session-Id",
)
EXPOSED_HEADERS = ("ETag", "Retry-After", "Location", "Link", "Booking-Consistency")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PREFLIGHT_MAX_AGE = 600


def origin_pattern(origins: tuple[str, ...]) -> str:
    """One regular expression for every allowed origin (`scheme://host:*` = any port)."""
    parts = []
    for origin in origins:
        if origin.endswith(":*"):
            parts.append(re.escape(origin[:-2]) + r"(:[0-9]{1,5})?")
        else:
            parts.append(re.escape(origin))
    return "^(" + "|".join(parts) + ")$"


def cors(origins: tuple[str, ...]) -> Middleware:
    """The CORS middleware for these origins."""
    wildcard = "*" in origins
    return Middleware(
        CORSMiddleware,
        allow_origins=["*"] if wildcard else [],
        allow_origin_regex=None if wildcard else origin_pattern(origins),
        allow_methods=list(METHODS),
        allow_headers=list(REQUEST_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
    )
