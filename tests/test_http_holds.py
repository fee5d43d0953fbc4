"""Holds over HTTP: take a slot, lose a race with alternatives, release, convert."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import psycopg

from gateway.client import BookingClient
from tests.fixtures import HttpCatalogue, next_test_day

PROBLEM = "application/problem+json"


async def test_a_hold_is_created_with_201_and_its_session(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    start = http_catalogue.at(day, 10)
    async with BookingClient(gateway_url, mint("holder-1")) as c:
        r = await c.create_hold(http_catalogue.service_id, start, http_catalogue.at(day, 11))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["success"] is True and body["hold_id"] and body["session_id"]
    assert body["resource_id"] == http_catalogue.resource_a
    assert body["version"] >= 1


async def test_two_hundred_racers_on_one_slot_one_201_rest_409_with_alternatives(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str], database_url: str
) -> None:
    day = next_test_day()
    start, end = http_catalogue.at(day, 12), http_catalogue.at(day, 13)
    async with BookingClient(gateway_url, None, timeout=60) as base:
        clients = [base.with_token(mint(f"racer-{i}")) for i in range(200)]
        responses = await asyncio.gather(
            *(c.create_hold(http_catalogue.solo_service_id, start, end) for c in clients)
        )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 199}, statuses
    for r in responses:
        if r.status_code == 409:
            assert r.headers["content-type"] == PROBLEM
            body = r.json()
            assert body["conflict_type"] == "HOLD_CONFLICT"
            assert body["type"].endswith("/hold-conflict")
            assert body["alternatives"], body
            assert body["conflict"]["alternatives"] == body["alternatives"]
    with psycopg.connect(database_url) as conn:
        live = conn.execute(
            "select count(*) from booking.reservations where service_id = %s and starts_at = %s"
            " and status in ('held', 'confirmed')",
            (http_catalogue.solo_service_id, start),
        ).fetchone()
    assert live == (1,)
