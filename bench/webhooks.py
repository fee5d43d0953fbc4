"""Benchmark family "Webhooks": deliveries per second from the outbox to a local receiver.

The delivery worker (gateway/jobs/webhooks.py) runs in this process against the bench database;
a threaded HTTP receiver (testkit/receiver.py) on 127.0.0.1 answers 204 at once. N events are
written into the outbox of a location with 1 and then 3 endpoints; the figure is deliveries
(event x endpoint, each signed, sent, answered and recorded) per second from the first round to
the last recorded delivery. `BENCH_WEBHOOK_EVENTS` sets N (default 2,000).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from bench.pgbench import Load
from bench.report import Section, table
from gateway.jobs.webhooks import WebhookWorker
from gateway.services.db import Database, Reachability
from gateway.services.engine import Engine
from gateway.services.webhook_store import WebhookStore
from gateway.services.webhook_targets import WebhookSettings
from testkit.receiver import Receiver

ENDPOINT_COUNTS = (1, 3)
SETTINGS = WebhookSettings(
    poll_seconds=0.01,
    backoff_base=timedelta(milliseconds=50),
    backoff_max=timedelta(seconds=1),
    allow_hosts=frozenset({"127.0.0.1"}),
    per_endpoint=200,
)


def _prepare(url: str, receiver: Receiver, endpoints: int, events: int) -> uuid.UUID:
    location = uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "insert into booking.locations (id, name, time_zone) values (%s, 'Hooks', 'UTC')",
            (location,),
        )
        for n in range(endpoints):
            conn.execute(
                "select api.create_webhook_endpoint(%s, %s)", (location, receiver.url(f"/{n}"))
            )
        conn.execute(
            "insert into booking.events (id, location_id, type, payload)"
            " select nextval('booking.events_id_seq'), %s, 'booking:confirmed',"
            " jsonb_build_object('n', g) from generate_series(1, %s) g",
            (location, events),
        )
    return location


def _pending(url: str, location: uuid.UUID) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select count(*) from booking.webhook_deliveries d"
            " join booking.webhook_endpoints e on e.id = d.endpoint_id"
            " where e.location_id = %s and d.status <> 'delivered'",
            (location,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _finish(url: str, location: uuid.UUID) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from booking.webhook_endpoints where location_id = %s", (location,))


async def _measure(url: str, endpoints: int, events: int) -> float:
    receiver = Receiver().start()
    location = _prepare(url, receiver, endpoints, events)
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url, min_size=2, max_size=8, kwargs={"autocommit": True}, open=False
    )
    await pool.open()
    db = Database(pool, 3, Reachability(), 1.0)
    worker = WebhookWorker(Engine(db), WebhookStore(db), SETTINGS)
    try:
        began = time.monotonic()
        # rounds back to back until every delivery is recorded as delivered
        while await worker.run_once() or _pending(url, location):
            pass
        took = time.monotonic() - began
    finally:
        await worker.stop()
        await pool.close()
        receiver.stop()
        _finish(url, location)
    return endpoints * events / took


def run(url: str, load: Load) -> Section:
    events = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "2000"))
    rows = []
    for endpoints in ENDPOINT_COUNTS:
        rate = asyncio.run(_measure(url, endpoints, events))
        print(f"  {endpoints} endpoint(s), {events} events: {rate:,.0f} deliveries/s", flush=True)
        rows.append([str(endpoints), f"{events:,}", f"{rate:,.0f}"])
    markdown = (
        "The delivery worker (one process, under its lease) sends outbox events to a local "
        "receiver that answers 204 at once: each delivery is signed (Standard Webhooks), POSTed, "
        "answered and recorded (a run of 2xx answers in one statement). Endpoints are served side "
        "by side, "
        "each in event order.\n\n" + table(["endpoints", "events", "deliveries/s"], rows)
    )
    return Section("Webhooks", markdown)
