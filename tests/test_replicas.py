"""Read replicas: a primary and a hot standby streaming from it (two servers of this module's own,
the standby made with pg_basebackup), and a real gateway with DATABASE_URL on the primary and
DATABASE_REPLICA_URLS on the standby.

- A client that sends back the `Booking-Consistency` token of its hold never sees the held slot
  free, while the standby's replay is paused behind the hold (the standby itself still shows the
  slot free): the gateway asked the standby, found it behind the token, and read the primary.
  Likewise an admin reads back the service it has just created, which the standby lacks.
- A client without a token is served by the standby (its own statistics count the calls), and
  so is a staff view, run there as the caller's role.
- A websocket client resuming with `since` gets the missed events, in order, from the standby.
- The standby hung and then killed under many concurrent readers, with reads under way on it:
  every answer is still 200 or 304; the standby is out of rotation, and back once restarted and
  caught up.
- The standby's replay paused past the lag bound: out of rotation; resumed: back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from typing import Any

import httpx
import psycopg
import pytest

from gateway.client import BookingClient
from gateway.config import Settings
from gateway.http.tokens import mint_token
from testkit.catalogue import Catalogue, seed_catalogue
from testkit.throwaway_postgres import (
    ThrowawayPostgres,
    crash,
    migrated_server,
    restart_after_crash,
)
from tests.fixtures import start_gateway, stop_gateway
from tests.support.wsclient import connect, next_event, subscribe

pytestmark = pytest.mark.fault

SECRET = Settings.from_env().jwt_secret
MAX_LAG = 3.0  # seconds: BOOKING_REPLICA_MAX_LAG of the gateway under test (long enough for
# the fenced reads of the first test to find the paused standby still in rotation)
FIRST_DAY = datetime.now(UTC).date() + timedelta(days=20)


class Pair:
    """The primary, the standby, the gateway over both, and the salon seeded on the primary."""

    def __init__(self, primary: ThrowawayPostgres, standby: ThrowawayPostgres) -> None:
        self.primary = primary
        self.standby = standby
        self.base = ""
        self.cat: Catalogue | None = None

    @property
    def catalogue(self) -> Catalogue:
        assert self.cat is not None
        return self.cat

    def on_standby(self, sql: str, *args: Any) -> Any:
        with psycopg.connect(self.standby.url("booking"), autocommit=True) as conn:
            row = conn.execute(sql, args).fetchone()
            return row[0] if row else None

    def on_primary(self, sql: str, *args: Any) -> Any:
        with psycopg.connect(self.primary.url("booking"), autocommit=True) as conn:
            row = conn.execute(sql, args).fetchone()
            return row[0] if row else None


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with migrated_server({"fsync": "off"}) as primary:
        with psycopg.connect(primary.url("booking")) as conn:
            cat = seed_catalogue(
                conn, name="Replica salon", resources=1, opens=wall(9), closes=wall(17)
            )
        standby = ThrowawayPostgres(settings={"fsync": "off", "track_functions": "all"})
        try:
            standby.clone_of(primary).start()
            proc, base = start_gateway(
                primary.url("booking"),
                {
                    "DATABASE_REPLICA_URLS": standby.url("booking"),
                    "REDIS_URL": "",
                    "BOOKING_REPLICA_MAX_LAG": str(MAX_LAG),
                    "BOOKING_REPLICA_POLL_SECONDS": "0.25",
                    "BOOKING_MAINTENANCE_SECONDS": "0",
                    "CACHE_TIMEOUT": "1",  # cache misses, so that reads keep reaching a database
                },
            )
            try:
                p = Pair(primary, standby)
                p.base, p.cat = base, cat
                yield p
            finally:
                stop_gateway(proc)
        finally:
            standby.destroy()


def customer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user, 'customer')}"}


async def replica_metrics(http: httpx.AsyncClient) -> dict[str, float]:
    """The gateway's booking_replica_* samples: the per-replica gauges by metric name (there is
    one replica), the read counters by name and outcome label."""
    text = (await http.get("/metrics")).text
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("booking_replica_"):
            name, value = line.rsplit(" ", 1)
            if not name.startswith("booking_replica_reads"):
                name = name.split("{")[0]
            found[name] = float(value)
    return found


def reads(metrics: dict[str, float], outcome: str) -> float:
    return metrics.get(f'booking_replica_reads_total{{outcome="{outcome}"}}', 0.0)


async def until_rotation(http: httpx.AsyncClient, serving: bool, seconds: float) -> float:
    """Wait until the standby is in (or out of) rotation; the seconds it took."""
    started = time.monotonic()
    while True:
        m = await replica_metrics(http)
        if m.get("booking_replica_in_rotation") == (1.0 if serving else 0.0):
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, f"in rotation still {not serving}: {m}"
        await asyncio.sleep(0.05)


async def standby_caught_up(pair: Pair, seconds: float = 10) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    target = pair.on_primary("select pg_catalog.pg_current_wal_insert_lsn()::text")
    deadline = time.monotonic() + seconds
    while not pair.on_standby("select pg_catalog.pg_last_wal_replay_lsn() >= %s::pg_lsn", target):
        assert time.monotonic() < deadline, "the standby did not catch up"
        await asyncio.sleep(0.05)


def free_starts(body: dict[str, Any]) -> set[datetime]:
    return {datetime.fromisoformat(s["start_time"]) for s in body["slots"]}


async def test_the_holder_never_sees_its_held_slot_free_while_the_standby_is_behind(
    pair: Pair,
) -> None:
    cat = pair.catalogue
    day = FIRST_DAY
    start = cat.start(day, wall(10))
    path = f"/v1/services/{cat.service_id}/availability?date={day.isoformat()}"
    async with httpx.AsyncClient(base_url=pair.base, timeout=20) as http:
        await until_rotation(http, True, 15)
        before = await http.get(path)
        assert before.status_code == 200 and start in free_starts(before.json())

        pair.on_standby("select pg_catalog.pg_wal_replay_pause()")
        try:
            held_at = await replica_metrics(http)
            hold = await http.post(
                "/v1/holds",
                json={"service_id": str(cat.service_id), "start_time": start.isoformat()},
                headers=customer("holder"),
            )
            assert hold.status_code == 201, hold.text
            token = hold.headers["Booking-Consistency"]
            # the standby has not replayed the hold: read there, the slot is still free
            assert pair.on_standby("select pg_catalog.pg_last_wal_replay_lsn() < %s::pg_lsn", token)
            assert pair.on_standby(
                "select count(*) from api.get_availability(%s, %s, 1, null) where start_time = %s",
                cat.service_id,
                day,
                start,
            )
            fenced = await http.get(path, headers={"Booking-Consistency": token})
            assert fenced.status_code == 200, fenced.text
            assert start not in free_starts(fenced.json())
            again = await http.get(
                path,
                headers={"Booking-Consistency": token, "If-None-Match": fenced.headers["ETag"]},
            )
            assert again.status_code == 304
            after = await replica_metrics(http)
            # the standby was in rotation and was asked; it was behind the token, so the primary
            # answered
            assert after["booking_replica_in_rotation"] == 1.0
            assert reads(after, "behind_fence") > reads(held_at, "behind_fence")

            # an admin creates a service and reads it back with the token: found, although the
            # standby (asked first) does not have it yet
            admin = mint_token(SECRET, "owner", "admin", 600, [str(cat.location_id)])
            as_admin = {"Authorization": f"Bearer {admin}"}
            created = await http.post(
                f"/v1/locations/{cat.location_id}/services",
                json={"name": "Fresh cut", "duration_minutes": 30},
                headers=as_admin,
            )
            assert created.status_code == 201, created.text
            new_id = created.json()["id"]
            fresh = created.headers["Booking-Consistency"]
            assert (
                pair.on_standby("select count(*) from booking.services where id = %s", new_id) == 0
            )
            read_back = await http.get(
                f"/v1/services/{new_id}", headers={**as_admin, "Booking-Consistency": fresh}
            )
            assert read_back.status_code == 200, read_back.text
            assert read_back.json()["name"] == "Fresh cut"
        finally:
            pair.on_standby("select pg_catalog.pg_wal_replay_resume()")
        await until_rotation(http, True, 15)


async def test_the_shipped_client_sends_its_writes_token_back_on_its_reads(pair: Pair) -> None:
    """gateway/client.py keeps the newest write's token and sends it on its reads: an admin who
    renames a service reads the new name back, although the paused standby still has the old
    one (and a read without the token may be answered there)."""
    cat = pair.catalogue
    admin = mint_token(SECRET, "client-owner", "admin", 600, [str(cat.location_id)])
    async with (
        httpx.AsyncClient(base_url=pair.base, timeout=20) as http,
        BookingClient(pair.base, admin) as c,
    ):
        created = await c.request(
            "POST",
            f"/v1/locations/{cat.location_id}/services",
            json={"name": "Trim", "duration_minutes": 30},
        )
        assert created.status_code == 201, created.text
        service = created.json()["id"]
        await standby_caught_up(pair)
        await until_rotation(http, True, 15)
        pair.on_standby("select pg_catalog.pg_wal_replay_pause()")
        try:
            renamed = await c.request(
                "PATCH", f"/v1/services/{service}", json={"name": "Beard trim"}
            )
            assert renamed.status_code == 200, renamed.text
            assert pair.on_standby("select name from booking.services where id = %s", service) == (
                "Trim"
            )
            read_back = await c.request("GET", f"/v1/services/{service}")
            assert read_back.status_code == 200, read_back.text
            assert read_back.json()["name"] == "Beard trim"
        finally:
            pair.on_standby("select pg_catalog.pg_wal_replay_resume()")
        await until_rotation(http, True, 15)


async def test_a_malformed_consistency_token_is_a_400(pair: Pair) -> None:
    cat = pair.catalogue
    async with httpx.AsyncClient(base_url=pair.base, timeout=20) as http:
        r = await http.get(
            f"/v1/services/{cat.service_id}/availability?date={FIRST_DAY.isoformat()}",
            headers={"Booking-Consistency": "yesterday"},
        )
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"


async def test_reads_without_a_token_are_served_by_the_standby(pair: Pair) -> None:
    cat = pair.catalogue
    async with httpx.AsyncClient(base_url=pair.base, timeout=20) as http:
        await until_rotation(http, True, 15)
        before_calls = standby_calls(pair, "get_availability")
        before = await replica_metrics(http)
        served = 0
        deadline = time.monotonic() + 10
        n = 0
        while served < 3:  # days not read before: cache misses, which the standby may answer
            n += 1
            day = FIRST_DAY + timedelta(days=n)
            r = await http.get(f"/v1/services/{cat.service_id}/availability?date={day}")
            assert r.status_code == 200, r.text
            assert len(r.json()["slots"]) == 8 * 4 - 3  # 09:00-17:00, 60 min every 15 min
            served = int(reads(await replica_metrics(http), "replica") - reads(before, "replica"))
            assert time.monotonic() < deadline, "no read reached the standby"
        listed = await http.get(f"/v1/locations/{cat.location_id}/services")
        assert listed.status_code == 200
        assert str(cat.service_id) in {item["id"] for item in listed.json()["items"]}
        # a staff view, run as the caller's role on the standby
        await standby_caught_up(pair)
        staff = mint_token(SECRET, "desk", "staff", 600, [str(cat.location_id)])
        before_view = reads(await replica_metrics(http), "replica")
        view = await http.get(
            f"/v1/locations/{cat.location_id}/schedule?date={FIRST_DAY}",
            headers={"Authorization": f"Bearer {staff}"},
        )
        assert view.status_code == 200, view.text
        assert view.json()["resources"][0]["resource_id"] == str(cat.resource_ids[0])
        assert reads(await replica_metrics(http), "replica") == before_view + 1
    # the standby's own statistics (flushed within a second or so) count the calls
    deadline = time.monotonic() + 5
    while standby_calls(pair, "get_availability") - before_calls < served:
        assert time.monotonic() < deadline, "the standby did not run get_availability"
        await asyncio.sleep(0.2)


def standby_calls(pair: Pair, function: str) -> int:
    """How often the standby has run api.<function> (track_functions is on there)."""
    calls: int = pair.on_standby(
        "select coalesce(sum(calls), 0)::int from pg_stat_user_functions"
        " where schemaname = 'api' and funcname = %s",
        function,
    )
    return calls


async def test_a_websocket_resuming_with_since_is_replayed_from_the_standby(pair: Pair) -> None:
    cat = pair.catalogue
    day = FIRST_DAY + timedelta(days=3)
    topic = f"availability:{cat.service_id}:{day.isoformat()}"
    token = mint_token(SECRET, "resumer", "customer")

    async def hold(http: httpx.AsyncClient, hour: int) -> None:
        body = {"service_id": str(cat.service_id), "start_time": cat.start(day, wall(hour))}
        r = await http.post(
            "/v1/holds",
            json={**body, "start_time": body["start_time"].isoformat()},
            headers=customer("resumer"),
        )
        assert r.status_code == 201, r.text

    async with httpx.AsyncClient(base_url=pair.base, timeout=20) as http:
        await until_rotation(http, True, 15)
        ws = await connect(pair.base, token)
        await subscribe(ws, [topic])
        await hold(http, 9)
        seen = (await next_event(ws))["id"]
        await ws.close()
        for hour in (10, 12):  # missed while away
            await hold(http, hour)
        await standby_caught_up(pair)
        before = await replica_metrics(http)
        read_before = standby_calls(pair, "read_events")
        ws = await connect(pair.base, token)
        await subscribe(ws, [topic], since=seen)
        replayed = [await next_event(ws), await next_event(ws)]
        await ws.close()
        assert seen < replayed[0]["id"] < replayed[1]["id"]
        starts = [datetime.fromisoformat(e["payload"]["start_time"]) for e in replayed]
        assert starts == [cat.start(day, wall(10)), cat.start(day, wall(12))]
        assert reads(await replica_metrics(http), "replica") > reads(before, "replica")
    deadline = time.monotonic() + 5
    while standby_calls(pair, "read_events") == read_before:
        assert time.monotonic() < deadline, "the standby did not run read_events"
        await asyncio.sleep(0.2)


async def test_a_standby_killed_under_load_fails_no_request_and_returns_when_restarted(
    pair: Pair,
) -> None:
    cat = pair.catalogue
    statuses: list[int] = []
    stop = asyncio.Event()

    async def reader(http: httpx.AsyncClient, n: int) -> None:
        etag = ""
        while not stop.is_set():
            day = FIRST_DAY + timedelta(days=40 + (n * 7 + len(statuses)) % 200)
            r = await http.get(
                f"/v1/services/{cat.service_id}/availability?date={day}",
                headers={"If-None-Match": etag} if etag and n % 2 else {},
            )
            statuses.append(r.status_code)
            etag = r.headers.get("ETag", "")
            if n % 3 == 0:
                statuses.append((await http.get(f"/v1/services/{cat.service_id}")).status_code)

    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=pair.base, timeout=20, limits=limits) as http:
        await until_rotation(http, True, 15)
        before = await replica_metrics(http)
        readers = [asyncio.create_task(reader(http, n)) for n in range(24)]
        await asyncio.sleep(1.0)
        await asyncio.to_thread(crash, pair.standby, 0.3)  # hangs, then dies
        killed_at = len(statuses)
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.gather(*readers)
        assert len(statuses) > killed_at + 20, "too few reads after the kill to prove anything"
        assert set(statuses) <= {200, 304}, sorted(set(statuses))
        await until_rotation(http, False, 5)
        during = await replica_metrics(http)
        print(
            f"standby killed under load: {len(statuses)} answers, {len(statuses) - killed_at}"
            f" after the kill, {reads(during, 'failed') - reads(before, 'failed'):.0f} reads"
            " failed on the standby and were answered by the primary"
        )
        assert reads(during, "replica") > reads(before, "replica")  # it served before the kill
        assert reads(during, "failed") > reads(before, "failed")  # reads were cut off by the kill
        assert "booking_replica_lag_seconds" not in during  # unreachable: no lag to report

        await asyncio.to_thread(restart_after_crash, pair.standby)
        await until_rotation(http, True, 30)
        r = await http.get(f"/v1/services/{cat.service_id}/availability?date={FIRST_DAY}")
        assert r.status_code == 200


async def test_a_standby_lagging_past_the_bound_leaves_rotation_and_returns_when_caught_up(
    pair: Pair,
) -> None:
    cat = pair.catalogue
    async with httpx.AsyncClient(base_url=pair.base, timeout=20) as http:
        await until_rotation(http, True, 30)
        pair.on_standby("select pg_catalog.pg_wal_replay_pause()")
        try:
            day = FIRST_DAY + timedelta(days=2)
            hold = await http.post(
                "/v1/holds",
                json={
                    "service_id": str(cat.service_id),
                    "start_time": cat.start(day, wall(11)).isoformat(),
                },
                headers=customer("lagger"),
            )
            assert hold.status_code == 201, hold.text
            waited = await until_rotation(http, False, MAX_LAG + 5)
            assert waited >= MAX_LAG * 0.5  # it left because of the lag, not at once
            lagging = await replica_metrics(http)
            assert lagging["booking_replica_lag_seconds"] > MAX_LAG
            assert lagging["booking_replica_lag_bytes"] > 0
            r = await http.get(f"/v1/services/{cat.service_id}/availability?date={day}")
            assert r.status_code == 200
            assert cat.start(day, wall(11)) not in free_starts(r.json())
        finally:
            pair.on_standby("select pg_catalog.pg_wal_replay_resume()")
        await until_rotation(http, True, 10)
        back = await replica_metrics(http)
        assert back["booking_replica_lag_seconds"] <= MAX_LAG / 2
