"""Reading availability from a real gateway the way the cache tests need: the free starts of a
day, a counter from /metrics, and a read known to be answered from the listener's version map."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx

from gateway.client import BookingClient

PATIENCE = 30.0  # seconds a poll may wait for the listener; generous, never asserted on


def metric(text: str, name: str) -> float:
    """The value of the sample `name` (labels included, e.g. `x_total{result="miss"}`) in a
    /metrics text; 0 when the sample is not there yet."""
    for line in text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def map_reads(metrics: str) -> float:
    """How many availability reads took their versions from the version map."""
    return metric(metrics, 'booking_availability_versions_total{source="map"}')


def starts(body: dict[str, Any], day: date) -> list[str]:
    """The free starts (HH:MM, UTC) of `day` in an availability answer."""
    slots: list[dict[str, str]] = body["slots"]
    return [s["start_time"][11:16] for s in slots if s["start_time"].startswith(day.isoformat())]


async def served_from_the_map(c: BookingClient, service_id: str, day: date) -> httpx.Response:
    """Read until a read is answered from the version map (the listener has caught up with
    every write of this process); that read's response."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while True:
        before = map_reads((await c.request("GET", "/metrics")).text)
        r = await c.availability(service_id, day)
        assert r.status_code == 200, r.text
        if map_reads((await c.request("GET", "/metrics")).text) > before:
            return r
        assert loop.time() < deadline, "the version map was never trusted"
        await asyncio.sleep(0.05)
