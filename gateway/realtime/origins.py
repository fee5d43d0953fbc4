"""The websocket Origin allow-list: exact origins, or `scheme://host:*` for any port."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """True for an allowed Origin, and for no Origin at all (not a browser: no ambient cookies)."""
    if origin is None:
        return True
    if "*" in allowed:
        return True
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if not parts.scheme or not parts.hostname:
        return False
    for pattern in allowed:
        if pattern == origin.rstrip("/"):
            return True
        if pattern.endswith(":*"):
            base = urlsplit(pattern[:-2])
            if base.scheme == parts.scheme and base.hostname == parts.hostname:
                return port is None or port > 0
    return False
