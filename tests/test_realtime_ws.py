"""The websocket protocol against a real gateway: delivery of HTTP and plain-SQL holds, Origin and
token checks, topic permissions, since/resync, token expiry, and the slow-consumer close."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import jwt
import psycopg
import pytest
import websockets

from gateway.cli.migrate import migrate
from tests.fixtures import HttpCatalogue, next_test_day, running_gateway
from tests.support.database import with_dbname
from tests.support.pgtap import psql_binary
from tests.support.wsclient import (
    close_code,
    connect,
    next_event,
    recv_json,
    subscribe,
    ws_url,
)

CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_TOO_SLOW = 4001, 4003, 4008


def day_topic(service_id: str, day: date) -> str:
    return f"availability:{service_id}:{day.isoformat()}"


@pytest.fixture(scope="module")
def rt_gateway(database_url: str) -> Iterator[str]:
    """A gateway with a small send buffer and a fast heartbeat."""
    with running_gateway(
        database_url, {"BOOKING_WS_SEND_BUFFER": "131072", "BOOKING_WS_HEARTBEAT_SECONDS": "1"}
    ) as base:
        yield base


def sql_hold(database_url: str, cat: HttpCatalogue, day: date, hour: int, user: str) -> str:
    """A hold made by a plain SQL caller: the psql binary calling api.create_hold_atomic."""
    query = (
        f"select api.create_hold_atomic(null, '{user}', '{cat.solo_service_id}', "
        f"'{cat.at(day, hour).isoformat()}', '{cat.at(day, hour + 1).isoformat()}', null, "
        f"'sess-{user}')->>'hold_id'"
    )
    out = subprocess.run(
        [psql_binary(), "-X", "-q", "-A", "-t", "-d", database_url, "-c", query],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return out.stdout.strip()


async def test_a_hold_over_http_and_one_from_psql_reach_a_subscriber_of_that_day(
    rt_gateway: str, database_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    topic = day_topic(http_catalogue.solo_service_id, day)
    ws = await connect(rt_gateway, mint("rt-watcher"))
    await subscribe(ws, [topic])
    async with httpx.AsyncClient(base_url=rt_gateway) as http:
        r = await http.post(
            "/v1/holds",
            headers={"Authorization": f"Bearer {mint('rt-http')}"},
            json={
                "service_id": http_catalogue.solo_service_id,
                "start_time": http_catalogue.at(day, 9).isoformat(),
                "end_time": http_catalogue.at(day, 10).isoformat(),
            },
        )
    assert r.status_code == 201, r.text
    first = await next_event(ws)
    assert first["event"] == "availability:updated" and first["topic"] == topic
    assert first["payload"]["reservation_id"] == r.json()["hold_id"]
    assert first["payload"]["status"] == "held"

    hold_id = await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, 11, "rt-psql")
    second = await next_event(ws)
    assert second["payload"]["reservation_id"] == hold_id and second["id"] > first["id"]
    await ws.close()


async def test_the_users_own_topic_hears_the_specific_event(
    rt_gateway: str, database_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    ws = await connect(rt_gateway, mint("rt-own"), via_subprotocol=True)
    assert ws.subprotocol == "bearer"
    await subscribe(ws, ["user:rt-own"])
    await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, 12, "rt-own")
    event = await next_event(ws)
    assert (event["event"], event["topic"]) == ("hold:created", "user:rt-own")
    await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, 12, "rt-own-rival")
    await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, 12, "rt-own")
    # the rival's conflict is not ours; our own second attempt on our own slot conflicts
    conflict = await next_event(ws)
    assert conflict["event"] == "conflict:detected" and conflict["topic"] == "user:rt-own"
    await ws.close()


async def test_a_bad_origin_is_refused_with_403_and_localhost_is_allowed(rt_gateway: str) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(
            ws_url(rt_gateway),
            origin="https://evil.example",  # type: ignore[arg-type]
            proxy=None,
        )
    assert refused.value.response.status_code == 403
    ws = await websockets.connect(
        ws_url(rt_gateway),
        origin="http://localhost:5173",  # type: ignore[arg-type]
        proxy=None,
    )
    await ws.close()


def _none_token(sub: str) -> str:
    return jwt.encode(
        {"sub": sub, "role": "admin", "exp": 4_000_000_000}, key=None, algorithm="none"
    )


@pytest.mark.parametrize("kind", ["forged", "expired", "alg-none", "garbage", "missing"])
async def test_bad_tokens_are_refused_with_4001(
    rt_gateway: str, mint: Callable[..., str], kind: str
) -> None:
    token = {
        "forged": jwt.encode(
            {"sub": "x", "role": "admin", "exp": 4_000_000_000},
            "not-the-secret-not-the-secret-not-the-secret",
            algorithm="HS256",
        ),
        "expired": mint("rt-expired", "customer", -30),
        "alg-none": _none_token("rt-none"),
        "garbage": "not.a.token",
        "missing": None,
    }[kind]
    for via_subprotocol in (False, True):
        if via_subprotocol and token is None:
            continue
        if via_subprotocol:
            assert token is not None
            offered: list[Any] = ["bearer", token]
            ws = await websockets.connect(ws_url(rt_gateway), subprotocols=offered, proxy=None)
        else:
            ws = await websockets.connect(ws_url(rt_gateway), proxy=None)
            await ws.send(
                json.dumps(
                    {"type": "auth", "token": token}
                    if token
                    else {"type": "subscribe", "topics": ["user:x"]}
                )
            )
        assert await close_code(ws) == CLOSE_UNAUTHORIZED


async def test_a_cookie_alone_does_not_authenticate(
    rt_gateway: str, mint: Callable[..., str]
) -> None:
    token = mint("rt-cookie", "admin")
    cookie = {"Cookie": f"token={token}; access_token={token}"}
    ws = await websockets.connect(ws_url(rt_gateway), proxy=None, additional_headers=cookie)
    await ws.send(json.dumps({"type": "subscribe", "topics": ["user:rt-cookie"]}))
    assert await close_code(ws) == CLOSE_UNAUTHORIZED


async def test_a_customer_cannot_subscribe_to_another_customers_topic(
    rt_gateway: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    ws = await connect(rt_gateway, mint("rt-alice"))
    topics = [
        "user:rt-alice",
        day_topic(http_catalogue.service_id, next_test_day()),
        f"location:{http_catalogue.location_id}",
    ]
    ok = await subscribe(ws, topics)
    assert len(ok["topics"]) == 3
    await ws.send(json.dumps({"type": "subscribe", "topics": ["user:rt-bob"]}))
    assert await close_code(ws) == CLOSE_FORBIDDEN
    staff = await connect(rt_gateway, mint("rt-desk", "staff"))
    assert (await subscribe(staff, ["user:rt-bob"]))["topics"] == ["user:rt-bob"]
    await staff.close()


async def test_staff_limited_to_locations_hear_their_location_but_no_customer_topic(
    rt_gateway: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    """A customer's user: topic carries events from every location, so a staff token limited to
    some locations may not follow one; the location's own topics stay open to it."""
    token = mint("rt-local-desk", "staff", locations=[http_catalogue.location_id])
    staff = await connect(rt_gateway, token)
    topics = [
        f"location:{http_catalogue.location_id}",
        day_topic(http_catalogue.service_id, next_test_day()),
    ]
    assert len((await subscribe(staff, topics))["topics"]) == 2
    await staff.send(json.dumps({"type": "subscribe", "topics": ["user:rt-bob"]}))
    assert await close_code(staff) == CLOSE_FORBIDDEN


async def test_token_expiry_closes_a_live_connection(
    rt_gateway: str, mint: Callable[..., str]
) -> None:
    ws = await connect(rt_gateway, mint("rt-short", "customer", 2))
    await subscribe(ws, ["user:rt-short"])
    started = asyncio.get_running_loop().time()
    assert await close_code(ws, within=10) == CLOSE_UNAUTHORIZED
    assert asyncio.get_running_loop().time() - started < 6


async def test_heartbeats_arrive_on_an_idle_connection(
    rt_gateway: str, mint: Callable[..., str]
) -> None:
    ws = await connect(rt_gateway, mint("rt-idle"))
    assert (await recv_json(ws, within=5))["type"] == "heartbeat"
    await ws.close()


async def test_since_replays_missed_events_in_order_then_goes_live(
    rt_gateway: str, database_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    topic = day_topic(http_catalogue.solo_service_id, day)
    ws = await connect(rt_gateway, mint("rt-resume"))
    await subscribe(ws, [topic])
    await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, 8, "rt-resume-1")
    seen = (await next_event(ws))["id"]
    await ws.close()
    for hour, user in ((9, "rt-resume-2"), (10, "rt-resume-3")):  # missed while away
        await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, hour, user)
    ws = await connect(rt_gateway, mint("rt-resume"))
    await subscribe(ws, [topic], since=seen)
    replayed = [await next_event(ws), await next_event(ws)]
    assert [e["payload"]["start_time"][11:13] for e in replayed] == ["09", "10"]
    assert seen < replayed[0]["id"] < replayed[1]["id"]
    await asyncio.to_thread(sql_hold, database_url, http_catalogue, day, 11, "rt-resume-4")
    live = await next_event(ws)
    assert live["id"] > replayed[1]["id"] and live["payload"]["start_time"][11:13] == "11"
    await ws.close()


@pytest.fixture
def pruned_database(database_url: str) -> Iterator[str]:
    """A database of the test's own whose oldest events were pruned."""
    name = f"booking_rt_{secrets.token_hex(4)}"
    admin = database_url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = with_dbname(admin, name)
    try:
        migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("insert into booking.locations (name) values ('Pruned salon')")
            for staff in ("Ala", "Ola"):  # a catalogue:changed event each
                conn.execute(
                    "insert into booking.resources (location_id, name)"
                    " select id, %s from booking.locations",
                    (staff,),
                )
            conn.execute(
                "update booking.events set created_at = now() - interval '30 days'"
                " where id = (select min(id) from booking.events)"
            )
            assert conn.execute("select api.prune_events('1 day')").fetchone() == (1,)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


async def test_since_older_than_the_retention_horizon_gets_resync(
    pruned_database: str, mint: Callable[..., str]
) -> None:
    with psycopg.connect(pruned_database) as conn:
        row = conn.execute(
            "select api.event_retention_horizon(), id::text from booking.locations"
        ).fetchone()
    assert row is not None
    horizon, location = row
    assert horizon >= 1
    with running_gateway(pruned_database) as base:
        ws = await connect(base, mint("rt-staff", "staff"))
        await subscribe(ws, [f"location:{location}"], since=horizon - 1)
        resync = await recv_json(ws)
        assert resync["type"] == "resync" and resync["topics"] == [f"location:{location}"]
        await ws.close()
        ws = await connect(base, mint("rt-staff", "staff"))
        await subscribe(ws, [f"location:{location}"], since=horizon)
        kept = await next_event(ws)  # the event after the horizon is still there
        assert kept["id"] > horizon and kept["event"] == "catalogue:changed"
        await ws.close()


def _tiny_socket(base: str) -> socket.socket:
    """A client socket with a small receive buffer, so a client that stops reading backs up fast."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    return sock


STORM_SQL = """
do $$
declare v_hold uuid;
begin
  for i in 1..%(pairs)s loop
    v_hold := (api.create_hold_atomic(null, 'rt-storm', %(service)L, %(start)L, %(end)L, null,
                                      'sess-storm')->>'hold_id')::uuid;
    perform api.release_hold(v_hold, 'sess-storm');
  end loop;
end $$"""


async def test_a_slow_consumer_is_closed_with_4008_and_the_others_keep_receiving(
    database_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    topic = day_topic(http_catalogue.solo_service_id, day)
    transactions, pairs = 40, 100
    with running_gateway(database_url, {"BOOKING_WS_SEND_BUFFER": "262144"}) as base:
        slow = await connect(
            base, mint("rt-slow"), sock=_tiny_socket(base), compression=None, max_queue=1
        )
        await subscribe(slow, [topic])
        fast = await connect(base, mint("rt-fast"), compression=None)
        await subscribe(fast, [topic])
        sql = (
            STORM_SQL.replace("%(pairs)s", str(pairs))
            .replace("%(service)L", f"'{http_catalogue.solo_service_id}'")
            .replace("%(start)L", f"'{http_catalogue.at(day, 8).isoformat()}'")
            .replace("%(end)L", f"'{http_catalogue.at(day, 9).isoformat()}'")
        )

        def write_storm() -> None:
            with psycopg.connect(database_url, autocommit=True) as conn:
                for _ in range(transactions):
                    conn.execute(sql.encode())

        writer = asyncio.create_task(asyncio.to_thread(write_storm))
        received = 0
        while received < transactions * pairs * 2:
            event = await next_event(fast, within=20)
            assert event["topic"] == topic
            received += 1
        await writer
        assert await close_code(slow, within=30) == CLOSE_TOO_SLOW
        await fast.close()


TCP_CLOSE = 7  # tcp_info.tcpi_state on Linux


def tcp_state(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


async def test_a_client_that_stops_reading_is_dropped_not_kept_waiting_for_its_close_frame(
    database_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    """Closed with 4008 it cannot be told so (it reads nothing): after the close grace its
    connection, still holding unsent bytes, is dropped instead of lasting as long as TCP lets
    it."""
    day = next_test_day()
    topic = day_topic(http_catalogue.solo_service_id, day)
    env = {"BOOKING_WS_SEND_BUFFER": "65536", "BOOKING_WS_CLOSE_GRACE_SECONDS": "1"}
    with running_gateway(database_url, env) as base:
        sock = _tiny_socket(base)
        mute = await connect(base, mint("rt-mute"), sock=sock, compression=None, max_queue=1)
        await subscribe(mute, [topic])
        sql = (
            STORM_SQL.replace("%(pairs)s", "100")
            .replace("%(service)L", f"'{http_catalogue.solo_service_id}'")
            .replace("%(start)L", f"'{http_catalogue.at(day, 8).isoformat()}'")
            .replace("%(end)L", f"'{http_catalogue.at(day, 9).isoformat()}'")
        )

        def write_storm() -> None:
            with psycopg.connect(database_url, autocommit=True) as conn:
                for _ in range(10):
                    conn.execute(sql.encode())

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60  # enough events to fill the kernel's buffers, the 4008, 1 s
        while tcp_state(sock) != TCP_CLOSE:
            assert loop.time() < deadline, "the gateway kept the silent client's connection"
            await asyncio.to_thread(write_storm)  # more events until its buffer overflows
            await asyncio.sleep(0.5)
        mute.transport.abort()
