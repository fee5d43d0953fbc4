"""Fault tests: servers of the tests' own are killed under load, and what every client was told
must still hold afterwards.

- PostgreSQL crashes (every server process SIGKILLed at once) during a booking storm through a
  real gateway, and is restarted on the same port and data directory: every booking a client saw
  acknowledged (201) is there, no two live reservations overlap, every request whose outcome the
  client never learnt is settled by a retry with its Idempotency-Key, and the gateway serves again
  without being restarted.
- Redis is killed and restarted during a storm: no 5xx, every acknowledged hold and booking is
  there, `/ready` says `degraded` while Redis is down and `ok` after, and the gateway's
  availability agrees with the database's.
- A connection is killed before and after its COMMIT: a retry with the same idempotency key
  yields exactly one booking, and no advisory lock or lease is left behind.

Each test starts its own PostgreSQL (fsync on: durability is the point) and its own Redis, and
never touches a server it did not start. Marked `fault`; SKIP_FAULT=1 skips them.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as wall
from typing import Any

import httpx
import psycopg
import pytest

from gateway.config import Settings
from gateway.http.tokens import mint_token
from testkit.catalogue import Catalogue, seed_catalogue
from testkit.ports import free_port
from testkit.processes import stop
from testkit.throwaway_postgres import (
    ThrowawayPostgres,
    crash,
    migrated_server,
    restart_after_crash,
)
from testkit.throwaway_redis import start_redis
from tests.fixtures import start_gateway
from tests.support.overlaps import overlapping_live_pairs

pytestmark = pytest.mark.fault

FIRST_DAY = date(2031, 6, 2)
DAYS = 12
SLOT = timedelta(minutes=30)
OPENS, CLOSES = wall(8), wall(20)
SECRET = Settings.from_env().jwt_secret
ANSWERED = frozenset({200, 201, 304, 409})


@pytest.fixture(scope="module")
def durable() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL of this module's own with durable settings (fsync, synchronous_commit on)."""
    with migrated_server({"max_connections": "120", "fsync": "on"}) as server:
        yield server


def seed(url: str, name: str, resources: int = 6) -> Catalogue:
    with psycopg.connect(url) as conn:
        return seed_catalogue(
            conn,
            name=name,
            resources=resources,
            duration=SLOT,
            slot_step=SLOT,
            opens=OPENS,
            closes=CLOSES,
        )


def random_start(cat: Catalogue, rng: random.Random) -> datetime:
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    slots = int((datetime.combine(day, CLOSES) - datetime.combine(day, OPENS)) / SLOT)
    return cat.start(day, OPENS) + SLOT * rng.randrange(slots)


@dataclass
class Outcome:
    """One request as its client saw it."""

    kind: str
    key: str
    user: str
    body: dict[str, Any]
    status: int | None  # None: no HTTP answer (connection refused or reset, timeout)
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Storm:
    """Clients booking random slots of a catalogue until told to stop."""

    base: str
    cat: Catalogue
    workers: int = 12
    holds: bool = False
    reads: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=self.workers, max_keepalive_connections=self.workers)
        async with httpx.AsyncClient(base_url=self.base, timeout=10, limits=limits) as http:
            await asyncio.gather(*(self._worker(http, n) for n in range(self.workers)))

    async def _worker(self, http: httpx.AsyncClient, n: int) -> None:
        rng = random.Random(n)
        i = 0
        while not self.stop.is_set():
            i += 1
            user = f"storm-{n}-{i}"
            roll = rng.random()
            if self.reads and roll < 0.4:
                day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
                await self._send(
                    http,
                    "read",
                    "",
                    user,
                    "GET",
                    f"/v1/services/{self.cat.service_id}/availability",
                    {"date": day.isoformat()},
                )
                continue
            start = random_start(self.cat, rng)
            body = {
                "service_id": str(self.cat.service_id),
                "start_time": start.isoformat(),
                "resource_id": str(rng.choice(self.cat.resource_ids)),
            }
            if self.holds and roll < 0.7:
                await self._send(http, "hold", "", user, "POST", "/v1/holds", body)
            else:
                await self._send(http, "book", uuid.uuid4().hex, user, "POST", "/v1/bookings", body)

    async def _send(
        self,
        http: httpx.AsyncClient,
        kind: str,
        key: str,
        user: str,
        method: str,
        path: str,
        body: dict[str, Any],
    ) -> Outcome:
        headers = {"Authorization": f"Bearer {mint_token(SECRET, user, 'customer')}"}
        if key:
            headers["Idempotency-Key"] = key
        outcome = Outcome(kind, key, user, body, None)
        try:
            if method == "GET":
                r = await http.get(path, params=body, headers=headers)
            else:
                r = await http.post(path, json=body, headers=headers)
        except httpx.HTTPError:
            await asyncio.sleep(0.05)  # nothing listening: do not spin
        else:
            outcome.status = r.status_code
            if r.headers.get("content-type", "").startswith(
                ("application/json", "application/problem+json")
            ):
                outcome.result = r.json()
            if r.status_code >= 500:
                await asyncio.sleep(0.05)
        self.outcomes.append(outcome)
        return outcome

    def acknowledged(self, kind: str) -> dict[str, Outcome]:
        """Id of every hold or booking a client was told succeeded (201)."""
        id_field = "hold_id" if kind == "hold" else "booking_id"
        return {o.result[id_field]: o for o in self.outcomes if o.kind == kind and o.status == 201}


def rows(url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchall()


def statuses(outcomes: list[Outcome]) -> Counter[int | None]:
    return Counter(o.status for o in outcomes)


# ---------------------------------------------------------------------------------------------
# PostgreSQL crash


async def test_postgres_crash_mid_storm_loses_no_acknowledged_booking(
    durable: ThrowawayPostgres,
) -> None:
    url = durable.url("booking")
    cat = seed(url, "Crash salon")
    proc, base = start_gateway(url, {"REDIS_URL": "", "BOOKING_POOL_MAX": "8"})
    try:
        storm = Storm(base, cat)
        running = asyncio.create_task(storm.run())
        await asyncio.sleep(2.5)
        before_crash = len(storm.outcomes)
        await asyncio.to_thread(crash, durable)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(restart_after_crash, durable)
        await asyncio.sleep(3)
        storm.stop.set()
        await running

        seen = statuses(storm.outcomes)
        print(f"crash storm: {dict(seen)}, {before_crash} answered before the crash")
        assert before_crash > 0 and seen[201] > 0, seen
        assert 500 not in seen, [o.result for o in storm.outcomes if o.status == 500][:3]
        assert set(seen) <= ANSWERED | {None, 503}, seen

        # The gateway serves again by itself: its pool replaces the dead connections.
        recovered = await wait_until_booking_succeeds(base, cat)
        assert recovered.status_code == 201, recovered.text
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            ready = (await http.get("/ready")).json()
        assert ready["database"] == "ok", ready

        # Every request whose outcome the client never learnt is settled by retrying it with its
        # Idempotency-Key: the answer is an answer, and a key never books twice.
        unknown = [o for o in storm.outcomes if o.kind == "book" and o.status not in ANSWERED]
        retried = await retry_bookings(base, unknown)
        print(f"retried {len(unknown)} unknown outcomes: {dict(statuses(retried))}")
        assert all(o.status in ANSWERED for o in retried), statuses(retried)

        acked = {
            **storm.acknowledged("book"),
            **{o.result["booking_id"]: o for o in retried if o.status == 201},
        }
        present = rows(
            url,
            "select id::text, resource_id::text, starts_at from"
            " booking.reservations where id = any(%s::uuid[])"
            " and status = 'confirmed'",
            list(acked),
        )
        assert len(present) == len(acked), set(acked) - {r[0] for r in present}
        for booking_id, resource_id, starts_at in present:
            asked = acked[booking_id].body
            assert resource_id == asked["resource_id"]
            assert starts_at == datetime.fromisoformat(asked["start_time"])
        twice = rows(
            url,
            "select idempotency_key, count(*) from booking.reservations"
            " where location_id = %s and idempotency_key is not null"
            " group by 1 having count(*) > 1",
            cat.location_id,
        )
        assert twice == []
        with psycopg.connect(url) as conn:
            assert overlapping_live_pairs(conn, cat.location_id) == 0
    finally:
        stop(proc)


async def wait_until_booking_succeeds(
    base: str, cat: Catalogue, seconds: float = 60
) -> httpx.Response:
    """Book fresh slots (one after another) until one is acknowledged or time runs out."""
    rng = random.Random(99)
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        while True:
            user = f"after-{uuid.uuid4().hex[:8]}"
            headers = {"Authorization": f"Bearer {mint_token(SECRET, user, 'customer')}"}
            body = {
                "service_id": str(cat.service_id),
                "start_time": random_start(cat, rng).isoformat(),
            }
            try:
                r = await http.post("/v1/bookings", json=body, headers=headers)
                if r.status_code == 201 or time.monotonic() > deadline:
                    return r
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.2)


async def retry_bookings(base: str, unknown: list[Outcome]) -> list[Outcome]:
    answers: list[Outcome] = []
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        for o in unknown:
            headers = {
                "Authorization": f"Bearer {mint_token(SECRET, o.user, 'customer')}",
                "Idempotency-Key": o.key,
            }
            r = await http.post("/v1/bookings", json=o.body, headers=headers)
            answers.append(Outcome(o.kind, o.key, o.user, o.body, r.status_code, r.json()))
    return answers


# ---------------------------------------------------------------------------------------------
# Redis killed and restarted


def kill_redis(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()  # SIGKILL: no shutdown, no goodbye to the clients
    proc.wait(10)


async def ready_state(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        r = await http.get("/ready")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def wait_ready(base: str, redis_state: str, seconds: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        body = await ready_state(base)
        if body["redis"] == redis_state or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.2)


async def test_redis_killed_and_restarted_mid_storm_is_slower_never_wrong(
    durable: ThrowawayPostgres,
) -> None:
    url = durable.url("booking")
    cat = seed(url, "Redis salon")
    port = free_port()
    redis_proc = start_redis(port)
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc, base = start_gateway(
            url, {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "BOOKING_POOL_MAX": "8"}
        )
        assert (await ready_state(base))["redis"] == "ok"
        storm = Storm(base, cat, holds=True, reads=True)
        running = asyncio.create_task(storm.run())
        await asyncio.sleep(2)
        kill_redis(redis_proc)
        down = await wait_ready(base, "degraded")
        await asyncio.sleep(2)
        redis_proc = start_redis(port)
        back = await wait_ready(base, "ok")
        await asyncio.sleep(2)
        storm.stop.set()
        await running
        after = await ready_state(base)
        http_slots = await http_availability(base, cat)
    finally:
        if proc is not None:
            stop(proc)
        kill_redis(redis_proc)

    assert down["redis"] == "degraded" and down["status"] == "degraded", down
    assert back["redis"] == "ok", back
    assert after["status"] == "ready", after
    seen = statuses(storm.outcomes)
    print(f"redis storm: {dict(Counter((o.kind, o.status) for o in storm.outcomes))}")
    assert set(seen) <= ANSWERED, seen  # no 5xx, no dropped connection, at any moment
    assert seen[201] > 0 and seen[200] > 0, seen
    for kind, status in (("hold", "held"), ("book", "confirmed")):
        acked = storm.acknowledged(kind)
        present = rows(
            url,
            "select count(*) from booking.reservations where id = any(%s::uuid[]) and status = %s",
            list(acked),
            status,
        )
        assert present == [(len(acked),)], kind
    with psycopg.connect(url) as conn:
        assert overlapping_live_pairs(conn, cat.location_id) == 0
        sql_slots = {
            day: conn.execute(
                "select start_time, resource_ids from api.get_availability(%s, %s)"
                " order by start_time",
                (cat.service_id, day),
            ).fetchall()
            for day in http_slots
        }
    for day, slots in http_slots.items():
        expected = [(start, sorted(str(r) for r in res)) for start, res in sql_slots[day]]
        got = [(datetime.fromisoformat(s["start_time"]), sorted(s["resource_ids"])) for s in slots]
        assert got == expected, day


async def http_availability(base: str, cat: Catalogue) -> dict[date, list[dict[str, Any]]]:
    """Each storm day's availability as the gateway serves it once its cache has caught up."""
    found: dict[date, list[dict[str, Any]]] = {}
    await asyncio.sleep(0.5)  # let the listener apply the storm's last invalidations
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for n in range(DAYS):
            day = FIRST_DAY + timedelta(days=n)
            r = await http.get(
                f"/v1/services/{cat.service_id}/availability", params={"date": day.isoformat()}
            )
            assert r.status_code == 200, r.text
            found[day] = r.json()["slots"]
    return found


# ---------------------------------------------------------------------------------------------
# A connection killed before and after its COMMIT

BOOK_SQL = (
    "select api.create_booking_atomic(p_service_id => %s::uuid, p_start_time => %s::timestamptz,"
    " p_user_id => %s::text, p_booking_data => '{}'::jsonb, p_resource_id => %s::uuid,"
    " p_idempotency_key => %s::text)"
)
LEAKED_ADVISORY = """
    select count(*) from pg_locks l
    where l.locktype = 'advisory'
      and (l.pid = %s or not exists (select 1 from pg_stat_activity a where a.pid = l.pid))
"""


def terminate(admin: psycopg.Connection[Any], pid: int) -> None:
    """Kill a backend and wait (up to 5 s) until it is gone."""
    row = admin.execute("select pg_terminate_backend(%s, 5000)", (pid,)).fetchone()
    assert row == (True,)


def booking_rows(url: str, user: str) -> list[tuple[Any, ...]]:
    return rows(
        url,
        "select r.id::text, r.status from booking.reservations r"
        " join booking.customers c on c.id = r.customer_id"
        " where c.subject = %s",
        user,
    )


def test_connection_killed_before_commit_then_retry_books_once_and_leaks_nothing(
    durable: ThrowawayPostgres,
) -> None:
    url = durable.url("booking")
    cat = seed(url, "Killed before commit", resources=1)
    start = cat.start(FIRST_DAY, wall(10))
    user, key, lease = "killed-early", "key-before-commit", f"lease-{uuid.uuid4().hex}"
    args = (cat.service_id, start, user, cat.resource_ids[0], key)
    with psycopg.connect(url, autocommit=True) as admin:
        victim = psycopg.connect(url)
        pid = victim.info.backend_pid
        token = victim.execute(
            "select api.acquire_lock(%s, 'victim', '10 minutes')", (lease,)
        ).fetchone()
        assert token is not None and token[0] is not None
        first = victim.execute(BOOK_SQL, args).fetchone()
        assert first is not None and first[0]["success"] is True
        held = admin.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and pid = %s", (pid,)
        ).fetchone()
        assert held is not None and held[0] >= 1, "the call holds its advisory locks until COMMIT"

        terminate(admin, pid)
        with pytest.raises(psycopg.OperationalError):
            victim.commit()
        victim.close()

        assert admin.execute(LEAKED_ADVISORY, (pid,)).fetchone() == (0,)
        assert booking_rows(url, user) == []
        assert admin.execute(
            "select count(*) from booking.distributed_locks where key = %s", (lease,)
        ).fetchone() == (0,), "the lease died with its transaction"
        assert admin.execute(
            "select api.acquire_lock(%s, 'someone-else', '1 minute')", (lease,)
        ).fetchone() != (None,)

        retry = admin.execute(BOOK_SQL, args).fetchone()
        assert retry is not None and retry[0]["success"] is True, retry
        again = admin.execute(BOOK_SQL, args).fetchone()
        assert again is not None and again[0] == retry[0]
        assert booking_rows(url, user) == [(retry[0]["booking_id"], "confirmed")]
        assert admin.execute(LEAKED_ADVISORY, (pid,)).fetchone() == (0,)
        assert overlapping_live_pairs(admin, cat.location_id) == 0


def test_connection_killed_after_commit_unread_then_retry_returns_the_first_result(
    durable: ThrowawayPostgres,
) -> None:
    url = durable.url("booking")
    cat = seed(url, "Killed after commit", resources=1)
    start = cat.start(FIRST_DAY, wall(11))
    user, key = "killed-late", "key-after-commit"
    with psycopg.connect(url, autocommit=True) as admin:
        victim = psycopg.connect(url, autocommit=True)
        pid = victim.info.backend_pid
        # Send the call and never read its answer: the client is gone before the result arrives.
        victim.pgconn.send_query_params(
            b"select api.create_booking_atomic($1::uuid, $2::timestamptz, $3::text, '{}'::jsonb,"
            b" $4::uuid, $5::text)",
            [
                str(cat.service_id).encode(),
                start.isoformat().encode(),
                user.encode(),
                str(cat.resource_ids[0]).encode(),
                key.encode(),
            ],
        )
        while victim.pgconn.flush() != 0:
            time.sleep(0.01)
        deadline = time.monotonic() + 20
        while not booking_rows(url, user):  # committed: another session sees it
            assert time.monotonic() < deadline, "the call never committed"
            time.sleep(0.01)
        terminate(admin, pid)
        victim.close()

        committed = booking_rows(url, user)
        assert len(committed) == 1 and committed[0][1] == "confirmed"
        args = (cat.service_id, start, user, cat.resource_ids[0], key)
        retry = admin.execute(BOOK_SQL, args).fetchone()
        assert retry is not None and retry[0]["success"] is True, retry
        assert retry[0]["booking_id"] == committed[0][0], "the retry returns the first result"
        assert booking_rows(url, user) == committed
        other = admin.execute(BOOK_SQL, (*args[:4], "another-key")).fetchone()
        assert other is not None and other[0]["success"] is False, "the slot is taken, once"
        assert admin.execute(LEAKED_ADVISORY, (pid,)).fetchone() == (0,)
        stored = admin.execute(
            "select response from booking.idempotency_keys k join booking.customers c"
            " on c.id = k.customer_id where c.subject = %s and k.key = %s",
            (user, key),
        ).fetchone()
        assert (
            stored is not None
            and json.loads(json.dumps(stored[0]))["booking_id"] == committed[0][0]
        )
        assert overlapping_live_pairs(admin, cat.location_id) == 0
