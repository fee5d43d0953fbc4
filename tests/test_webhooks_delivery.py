"""Webhook delivery against a real receiver: signed per Standard Webhooks (verified with the
`standardwebhooks` package), at least once, per endpoint in outbox order, retried through a
receiver that is down, failing or slow, never lost when the worker dies mid-batch, and a failing
endpoint never delays the others."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.jobs.webhooks import LEASE_KEY, WebhookWorker
from gateway.services.db import Database, Reachability
from gateway.services.engine import Engine
from gateway.services.webhook_store import WebhookStore
from gateway.services.webhook_targets import RefusedTarget, WebhookSettings, check_target
from testkit.receiver import Received, Receiver

FAST = WebhookSettings(
    poll_seconds=0.02,
    backoff_base=timedelta(milliseconds=20),
    backoff_max=timedelta(milliseconds=200),
    retry_window=timedelta(seconds=60),
    disable_after=5,
    connect_timeout=0.5,
    read_timeout=0.5,
    allow_hosts=frozenset({"127.0.0.1"}),
)


class Outbox:
    """A location of its own, its endpoints, and events written straight into the outbox."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn
        self.location = uuid4()
        conn.execute(
            "insert into booking.locations (id, name, time_zone) values (%s, 'Hooks', 'UTC')",
            (self.location,),
        )

    def endpoint(self, url: str, types: list[str] | None = None) -> tuple[UUID, str]:
        row = self.conn.execute(
            "select api.create_webhook_endpoint(%s, %s, %s::text[]) as e",
            (self.location, url, types),
        ).fetchone()
        assert row is not None
        return UUID(row["e"]["id"]), str(row["e"]["secret"])

    def events(self, n: int, kind: str = "booking:confirmed") -> list[int]:
        rows = self.conn.execute(
            "insert into booking.events (id, location_id, type, payload)"
            " select nextval('booking.events_id_seq'), %s, %s, jsonb_build_object('n', g)"
            " from generate_series(1, %s) g returning id",
            (self.location, kind, n),
        ).fetchall()
        return sorted(int(r["id"]) for r in rows)

    def deliveries(self, endpoint: UUID) -> list[dict[str, Any]]:
        return self.conn.execute(
            "select event_id, status, attempts, message_id from booking.webhook_deliveries"
            " where endpoint_id = %s order by event_id",
            (endpoint,),
        ).fetchall()

    def endpoint_row(self, endpoint: UUID) -> dict[str, Any]:
        row = self.conn.execute(
            "select * from booking.webhook_endpoints where id = %s", (endpoint,)
        ).fetchone()
        assert row is not None
        return row

    def close(self) -> None:
        self.conn.execute(
            "delete from booking.webhook_endpoints where location_id = %s", (self.location,)
        )


@pytest.fixture
def outbox(database_url: str) -> Iterator[Outbox]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        box = Outbox(conn)
        try:
            yield box
        finally:
            box.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[tuple[Engine, WebhookStore]]:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=8,
        kwargs={"autocommit": True, "options": "-c TimeZone=UTC"},
        open=False,
    )
    await pool.open()
    db = Database(pool, 3, Reachability(), 1.0)
    try:
        yield Engine(db), WebhookStore(db)
    finally:
        await pool.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


class Running:
    """Workers started in a test, stopped at its end."""

    def __init__(self, engine: Engine, store: WebhookStore) -> None:
        self.engine, self.store = engine, store
        self.workers: list[WebhookWorker] = []

    def start(self, settings: WebhookSettings = FAST) -> WebhookWorker:
        w = WebhookWorker(self.engine, self.store, settings)
        self.workers.append(w)
        w.start()
        return w

    async def stop_all(self) -> None:
        for w in self.workers:
            await w.stop()


@pytest.fixture
async def workers(store: tuple[Engine, WebhookStore]) -> AsyncIterator[Running]:
    running = Running(*store)
    try:
        yield running
    finally:
        await running.stop_all()


async def until(check: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


def event_ids(received: list[Received]) -> list[int]:
    return [json.loads(r.body)["data"]["event_id"] for r in received]


async def test_each_event_arrives_signed_and_verifies_with_standardwebhooks(
    outbox: Outbox, receiver: Receiver, workers: Running
) -> None:
    endpoint, secret = outbox.endpoint(receiver.url("/all"))
    filtered, _ = outbox.endpoint(receiver.url("/cancels"), ["booking:cancelled"])
    confirmed = outbox.events(3)
    cancelled = outbox.events(1, "booking:cancelled")
    workers.start()
    await until(
        lambda: len(receiver.accepted("/all")) == 4 and len(receiver.accepted("/cancels")) == 1
    )

    got = receiver.accepted("/all")
    assert event_ids(got) == confirmed + cancelled, "in outbox order"
    for r in got:
        payload = Webhook(secret).verify(r.body, r.headers)
        assert r.headers["webhook-id"] == f"msg_{payload['data']['event_id']}"
        assert payload["type"] in ("booking:confirmed", "booking:cancelled")
        assert payload["data"]["location_id"] == str(outbox.location)
        assert "customer_id" not in payload["data"]
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43).verify(r.body, r.headers)
    assert event_ids(receiver.accepted("/cancels")) == cancelled, "the filter holds"
    await until(lambda: all(d["status"] == "delivered" for d in outbox.deliveries(endpoint)))
    assert [d["attempts"] for d in outbox.deliveries(filtered)] == [1]


async def test_a_receiver_down_then_failing_then_slow_gets_everything_with_the_same_ids(
    outbox: Outbox, workers: Running
) -> None:
    late = Receiver()
    late.start()
    port = late.port
    late.stop()  # down: nothing listens on the port yet
    endpoint, secret = outbox.endpoint(f"http://127.0.0.1:{port}/flaky")
    ids = outbox.events(3)
    workers.start()
    await until(lambda: any(d["attempts"] >= 2 for d in outbox.deliveries(endpoint)))

    def script(path: str, seen: int) -> tuple[int, float]:
        if seen < 2:
            return 500, 0.0  # failing
        if seen == 2:
            return 200, 1.0  # slower than the read timeout: the worker gives up on it
        return 204, 0.0

    back = Receiver(port=port, script=script).start()
    try:
        await until(lambda: all(d["status"] == "delivered" for d in outbox.deliveries(endpoint)))
        seen = back.all("/flaky")
        first = [r for r in seen if json.loads(r.body)["data"]["event_id"] == ids[0]]
        assert len(first) >= 4, "500, 500, timed out, then delivered"
        assert {r.headers["webhook-id"] for r in first} == {f"msg_{ids[0]}"}, "the same id each try"
        for r in seen:
            Webhook(secret).verify(r.body, r.headers)
        # per endpoint in order: no later event was tried before the first one got through
        order = event_ids(seen)
        assert order == sorted(order)
        assert sorted(set(order)) == ids
        attempts = outbox.conn.execute(
            "select a.status_code, a.error, a.response_excerpt from booking.webhook_attempts a"
            " join booking.webhook_deliveries d on d.id = a.delivery_id"
            " where d.endpoint_id = %s and d.event_id = %s order by a.id",
            (endpoint, ids[0]),
        ).fetchall()
        assert attempts[0]["status_code"] is None and "ConnectError" in attempts[0]["error"]
        fivehundreds = [a for a in attempts if a["status_code"] == 500]
        assert len(fivehundreds) == 2 and all(
            len(a["response_excerpt"]) == 256 for a in fivehundreds
        )
        assert any("timed out" in (a["error"] or "") for a in attempts)
        assert attempts[-1]["status_code"] == 204
    finally:
        back.stop()


async def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_with_the_same_id(
    outbox: Outbox, workers: Running
) -> None:
    slow = Receiver(script=lambda path, seen: (204, 0.01)).start()
    try:
        endpoint, _ = outbox.endpoint(slow.url("/kill"))
        ids = outbox.events(60)
        first = workers.start()
        await until(lambda: len(slow.all("/kill")) >= 10)
        assert first._task is not None
        first._task.cancel()  # killed: no lease release, a request may be half done
        await asyncio.gather(first._task, return_exceptions=True)
        first._task = None
        # its lease would lapse after its ttl; the test does not wait for that
        outbox.conn.execute("delete from booking.distributed_locks where key = %s", (LEASE_KEY,))
        first.token = None
        workers.start()
        await until(lambda: all(d["status"] == "delivered" for d in outbox.deliveries(endpoint)))
        got = slow.all("/kill")
        assert sorted(set(event_ids(got))) == ids, "every event arrived"
        by_id: dict[int, set[tuple[str, bytes]]] = {}
        for r in got:
            by_id.setdefault(json.loads(r.body)["data"]["event_id"], set()).add(
                (r.headers["webhook-id"], r.body)
            )
        assert all(len(v) == 1 for v in by_id.values()), "a repeat carries the same id and body"
        first_seen = list(dict.fromkeys(event_ids(got)))
        assert first_seen == ids, "first arrivals in outbox order"
    finally:
        slow.stop()


async def test_one_failing_endpoint_does_not_delay_the_others(
    outbox: Outbox, receiver: Receiver, workers: Running
) -> None:
    recovered_at: list[float] = []

    def script(path: str, seen: int) -> tuple[int, float]:
        if path == "/c" and not recovered_at:
            return 503, 0.0
        return 204, 0.0

    receiver.script = script
    outbox.endpoint(receiver.url("/a"))
    outbox.endpoint(receiver.url("/b"))
    c, _ = outbox.endpoint(receiver.url("/c"))
    ids = outbox.events(1000)
    workers.start()
    await until(
        lambda: len(receiver.accepted("/a")) >= 1000 and len(receiver.accepted("/b")) >= 1000, 120
    )
    done_ab = time.monotonic()
    assert receiver.accepted("/c") == [], "C is still failing on its first event"
    assert len(receiver.all("/c")) >= 2, "and has been retried meanwhile"
    assert {d["event_id"] for d in outbox.deliveries(c) if d["status"] == "pending"} == set(ids)
    recovered_at.append(time.monotonic())
    await until(lambda: len(receiver.accepted("/c")) >= 1000, 120)
    assert event_ids(receiver.accepted("/a")) == ids and event_ids(receiver.accepted("/b")) == ids
    assert list(dict.fromkeys(event_ids(receiver.accepted("/c")))) == ids
    assert max(r.at for r in receiver.accepted("/a") + receiver.accepted("/b")) <= done_ab
    assert done_ab < recovered_at[0] < min(r.at for r in receiver.accepted("/c"))


async def test_dead_letters_after_the_window_switch_the_endpoint_off_and_redelivery_resends(
    outbox: Outbox, receiver: Receiver, workers: Running, store: tuple[Engine, WebhookStore]
) -> None:
    failing = [True]
    receiver.script = lambda path, seen: (500, 0.0) if failing[0] else (204, 0.0)
    endpoint, _ = outbox.endpoint(receiver.url("/dead"))
    ids = outbox.events(3)
    short = WebhookSettings(
        **{**FAST.__dict__, "retry_window": timedelta(milliseconds=300), "disable_after": 2}
    )
    workers.start(short)
    await until(lambda: not outbox.endpoint_row(endpoint)["active"])
    row = outbox.endpoint_row(endpoint)
    assert row["disabled_reason"] == "2 deliveries in a row dead-lettered"
    assert [d["status"] for d in outbox.deliveries(endpoint)] == ["dead", "dead", "pending"]

    failing[0] = False
    outbox.conn.execute("select api.redeliver_webhooks(%s, %s, %s)", (endpoint, ids[0], ids[1]))
    outbox.conn.execute("select api.update_webhook_endpoint(%s, p_active => true)", (endpoint,))
    await until(lambda: all(d["status"] == "delivered" for d in outbox.deliveries(endpoint)))
    assert event_ids(receiver.accepted("/dead")) == ids, "redelivered first, in order"
    assert [r.headers["webhook-id"] for r in receiver.accepted("/dead")] == [
        f"msg_{i}" for i in ids
    ]


async def test_during_a_rotation_both_secrets_verify(
    outbox: Outbox, receiver: Receiver, workers: Running
) -> None:
    endpoint, old = outbox.endpoint(receiver.url("/rotated"))
    row = outbox.conn.execute("select api.rotate_webhook_secret(%s) as e", (endpoint,)).fetchone()
    assert row is not None
    new = row["e"]["secret"]
    outbox.events(1)
    workers.start()
    await until(lambda: len(receiver.accepted("/rotated")) == 1)
    r = receiver.accepted("/rotated")[0]
    assert len(r.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(r.body, r.headers)
    Webhook(new).verify(r.body, r.headers)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
async def test_internal_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(RefusedTarget):
        await check_target(url, frozenset())
    host = (
        url.split("//")[1].split("/")[0].rsplit(":", 1)[0]
        if "[" not in url
        else url.split("[")[1].split("]")[0]
    )
    await check_target(url, frozenset({host.lower()}))


async def test_the_worker_refuses_to_send_to_an_address_not_allowed(
    outbox: Outbox, receiver: Receiver, workers: Running
) -> None:
    endpoint, _ = outbox.endpoint(receiver.url("/private"))
    outbox.events(1)
    workers.start(WebhookSettings(**{**FAST.__dict__, "allow_hosts": frozenset()}))
    await until(lambda: any(d["attempts"] >= 1 for d in outbox.deliveries(endpoint)))
    assert receiver.all("/private") == []
    error = outbox.conn.execute(
        "select a.error from booking.webhook_attempts a join booking.webhook_deliveries d"
        " on d.id = a.delivery_id where d.endpoint_id = %s limit 1",
        (endpoint,),
    ).fetchone()
    assert error is not None and error["error"].startswith("refused: ")
