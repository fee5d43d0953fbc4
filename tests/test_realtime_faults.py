"""Realtime under faults and scale-out: the listener's backend killed repeatedly during a write
storm (every committed event exactly once, in order, none rolled back), two gateways sharing
Redis (both deliver, both invalidate), and the single-leader maintenance job expiring holds."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import redis

from gateway.services.cache import SLOT_SHAPE
from tests.fixtures import HttpCatalogue, next_test_day, running_gateway
from tests.support.wsclient import connect, next_event, recv_json, subscribe


def kill_listener(database_url: str, app_name: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where application_name = %s and datname = current_database()",
            (app_name,),
        ).fetchone()
    return int(row[0]) if row else 0


async def local_entries(base: str) -> int:
    ready = await asyncio.to_thread(httpx.get, base + "/ready")
    return int(ready.json()["cache"]["local_entries"])


async def test_write_storm_with_the_listener_killed_delivers_every_committed_event_once_in_order(
    database_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    topic = f"availability:{http_catalogue.solo_service_id}:{day.isoformat()}"
    app_name = f"booking-listener-storm-{secrets.token_hex(3)}"
    start, end = http_catalogue.at(day, 10), http_catalogue.at(day, 11)
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select api.last_event_id()").fetchone()
        assert row is not None
        since = int(row[0])
    with running_gateway(
        database_url,
        {"BOOKING_LISTENER_APP_NAME": app_name, "BOOKING_LISTENER_POLL_SECONDS": "0.2"},
    ) as base:
        stop = threading.Event()
        kills: list[int] = []
        rolled_back: list[str] = []

        def writer() -> None:
            with psycopg.connect(database_url, autocommit=True) as conn:
                for i in range(300):
                    with conn.transaction():
                        hold = conn.execute(
                            "select api.create_hold_atomic(null, 'rt-storm-k', %s, %s, %s, null,"
                            " 'sess-k')->>'hold_id'",
                            (http_catalogue.solo_service_id, start, end),
                        ).fetchone()
                        assert hold is not None and hold[0]
                        if i % 5 == 4:
                            rolled_back.append(hold[0])
                            raise psycopg.Rollback()  # hold:created never commits
                    if i % 5 != 4:
                        conn.execute("select api.release_hold(%s, 'sess-k')", (hold[0],))
                    time.sleep(0.002)

        def writer_then_stop() -> None:
            try:
                writer()
            finally:
                stop.set()

        def killer() -> None:
            while not stop.is_set():
                kills.append(kill_listener(database_url, app_name))
                time.sleep(0.05)

        threads = [threading.Thread(target=writer_then_stop), threading.Thread(target=killer)]
        for t in threads:
            t.start()
        received: list[int] = []
        seen = since
        try:
            while not stop.is_set():  # the subscriber leaves and resumes on its own too
                ws = await connect(base, mint("rt-storm-watch"))
                await subscribe(ws, [topic], since=seen)
                deadline = asyncio.get_running_loop().time() + 0.3
                while asyncio.get_running_loop().time() < deadline:
                    try:
                        message = await recv_json(
                            ws, max(0.01, deadline - asyncio.get_running_loop().time())
                        )
                    except TimeoutError:
                        break
                    if message["type"] == "event":
                        received.append(message["id"])
                        seen = message["id"]
                await ws.close()
        finally:
            for t in threads:
                t.join(60)
        with psycopg.connect(database_url) as conn:
            expected = [
                r[0]
                for r in conn.execute(
                    "select id from api.read_events(%s, 10000, array[%s])", (since, topic)
                )
            ]
            leaked = conn.execute(
                "select count(*) from booking.events where reservation_id = any(%s::uuid[])",
                (rolled_back,),
            ).fetchone()
        assert leaked == (0,) and len(expected) == 240 * 2
        ws = await connect(base, mint("rt-storm-watch"))
        await subscribe(ws, [topic], since=seen)
        while len(received) < len(expected):
            received.append((await next_event(ws, within=15))["id"])
        await ws.close()
        assert sum(kills) >= 3, kills
        assert received == expected  # each committed event exactly once, in commit order
        ready = (await asyncio.to_thread(httpx.get, base + "/ready")).json()
        assert ready["listener"] == "ok"


async def test_two_gateways_both_deliver_and_both_invalidate_redis(
    database_url: str, redis_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    service = http_catalogue.solo_service_id
    topic = f"availability:{service}:{day.isoformat()}"
    r = redis.Redis.from_url(redis_url)
    pattern = f"booking:avail:{{{service}}}:{day.isoformat()}:*"
    env = {"REDIS_URL": redis_url}
    with running_gateway(database_url, env) as one, running_gateway(database_url, env) as two:
        sockets = [await connect(base, mint(f"rt-two-{i}")) for i, base in enumerate((one, two))]
        for ws in sockets:
            await subscribe(ws, [topic])
        for base in (one, two):
            got = await asyncio.to_thread(
                httpx.get,
                f"{base}/v1/services/{service}/availability",
                params={"date": day.isoformat()},
            )
            assert got.status_code == 200
            assert (await local_entries(base)) == 1
        assert len(r.keys(pattern)) == 1
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "select api.create_hold_atomic(null, 'rt-two', %s, %s, %s, null, 's')",
                (service, http_catalogue.at(day, 13), http_catalogue.at(day, 14)),
            )
        events = [await next_event(ws) for ws in sockets]
        assert events[0]["id"] == events[1]["id"] and events[0]["topic"] == topic
        new = f":{events[0]['id']}:s{SLOT_SHAPE}"

        def old_in_redis() -> list[bytes]:  # the new version may be there: a gateway read it ahead
            return [k for k in r.keys(pattern) if not k.decode().endswith(new)]

        for _ in range(100):
            if not old_in_redis() and all([await local_entries(b) <= 1 for b in (one, two)]):
                break
            await asyncio.sleep(0.05)
        assert old_in_redis() == []  # the Redis entry of the old version is gone
        for base in (one, two):  # each process dropped its own copy (it may hold the new one)
            assert (await local_entries(base)) <= 1
            got = await asyncio.to_thread(
                httpx.get,
                f"{base}/v1/services/{service}/availability",
                params={"date": day.isoformat()},
            )
            assert got.headers["etag"] == f'W/"{events[0]["id"]}"'
            held = http_catalogue.at(day, 13)
            starts = [datetime.fromisoformat(s["start_time"]) for s in got.json()["slots"]]
            assert held not in starts and starts, "the new version: 13:00 is taken"
        for ws in sockets:
            await ws.close()


async def test_one_maintenance_leader_expires_lapsed_holds_and_screens_hear_it(
    database_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    env = {"BOOKING_MAINTENANCE_SECONDS": "0.3"}
    with running_gateway(database_url, env) as one, running_gateway(database_url, env):
        ws = await connect(one, mint("rt-lapse"))
        await subscribe(ws, ["user:rt-lapse"])
        with psycopg.connect(database_url, autocommit=True) as conn:
            expires = datetime.now(UTC) + timedelta(seconds=1)
            conn.execute(
                "select api.create_hold_atomic(null, 'rt-lapse', %s, %s, %s, %s, 's')",
                (
                    http_catalogue.solo_service_id,
                    http_catalogue.at(day, 15),
                    http_catalogue.at(day, 16),
                    expires,
                ),
            )
            assert (await next_event(ws))["event"] == "hold:created"
            lapsed = await next_event(ws, within=10)
            assert lapsed["event"] == "hold:expired" and lapsed["payload"]["status"] == "expired"
            owners = conn.execute(
                "select count(*) from booking.distributed_locks"
                " where key = 'booking-maintenance' and expires_at > now()"
            ).fetchone()
            assert owners == (1,)
        await ws.close()
