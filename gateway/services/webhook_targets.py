"""Where webhooks may go, and how hard the worker tries: settings from the environment, and the
address check that keeps endpoints off loopback, private, link-local and other internal addresses
unless BOOKING_WEBHOOK_ALLOW_HOSTS names the host (SSRF)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw.strip() else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


@dataclass(frozen=True)
class WebhookSettings:
    """The delivery worker's knobs (docs/WEBHOOKS.md lists the environment variables)."""

    poll_seconds: float = 1.0  # 0: no worker in this process
    backoff_base: timedelta = timedelta(seconds=5)
    backoff_max: timedelta = timedelta(hours=6)
    retry_window: timedelta = timedelta(days=3)
    disable_after: int = 5  # dead deliveries in a row that switch an endpoint off; 0: never
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    per_endpoint: int = 50  # deliveries sent per endpoint per round, in order
    endpoints_per_round: int = 100
    allow_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls) -> WebhookSettings:
        hosts = os.environ.get("BOOKING_WEBHOOK_ALLOW_HOSTS", "")
        return cls(
            poll_seconds=_float("BOOKING_WEBHOOK_POLL_SECONDS", 1.0),
            backoff_base=timedelta(seconds=_float("BOOKING_WEBHOOK_BACKOFF_BASE_SECONDS", 5)),
            backoff_max=timedelta(seconds=_float("BOOKING_WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600)),
            retry_window=timedelta(
                seconds=_float("BOOKING_WEBHOOK_RETRY_WINDOW_SECONDS", 3 * 86400)
            ),
            disable_after=_int("BOOKING_WEBHOOK_DISABLE_AFTER", 5),
            connect_timeout=_float("BOOKING_WEBHOOK_CONNECT_TIMEOUT", 5.0),
            read_timeout=_float("BOOKING_WEBHOOK_READ_TIMEOUT", 10.0),
            allow_hosts=frozenset(h.strip().lower() for h in hosts.split(",") if h.strip()),
        )


RESOLVE_SECONDS = 5.0


class RefusedTarget(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def check_target(url: str, allow_hosts: frozenset[str]) -> None:
    """Raise RefusedTarget unless every address the URL's host resolves to is public, or the host
    is on the allow-list. Checked at registration and again before every delivery (DNS changes)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedTarget(f"the URL is malformed: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget("the URL must be http:// or https:// with a host")
    host = parts.hostname.lower()
    if host in allow_hosts:
        return
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
            RESOLVE_SECONDS,
        )
    except (OSError, UnicodeError, ValueError, TimeoutError) as exc:
        raise RefusedTarget(f"the host {host} does not resolve: {exc!r}") from exc
    for info in infos:
        address = str(info[4][0])
        if _internal(address):
            raise RefusedTarget(
                f"the host {host} resolves to the internal address {address}"
                " (allow it with BOOKING_WEBHOOK_ALLOW_HOSTS)"
            )
