"""Sharding by location: two PostgreSQL servers (two shards), two locations on each, one gateway
configured with both (BOOKING_SHARDS, BOOKING_SHARD_DIRECTORY). 200 racers per location hold
the same slots over real HTTP: every slot has exactly one winner and no two live reservations
overlap, on each shard; while one shard's locations race, the other shard runs no hold at all
(its own function-call counters say so, not only the gateway's); a customer's bookings at
locations on both shards come back merged, newest first, and a limit cuts the merged list;
one websocket hears both shards; a location moved to the other shard keeps its bookings."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from gateway.cli.move_location import move_location
from gateway.sharding.directory import DirectoryError, directory_from_env
from testkit.catalogue import Catalogue, seed_catalogue
from testkit.receiver import Receiver
from testkit.throwaway_postgres import ThrowawayPostgres, migrated_server
from tests.fixtures import running_gateway
from tests.support.availability_reads import metric
from tests.support.overlaps import overlapping_live_pairs
from tests.support.wsclient import connect, next_event, recv_json, subscribe

DAY = date(2031, 5, 7)
RACERS = 200  # per location
SLOTS = (time(9), time(10), time(11), time(12))  # the racers of a location share these
SETTINGS = {
    "max_connections": "100",
    "fsync": "off",
    "shared_preload_libraries": "pg_stat_statements",
}
# statements counted as they finish (pg_stat_statements' own shared table, no reporting delay)
HOLD_CALLS = """
    select coalesce(sum(calls), 0)::bigint from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database())
      and query like 'select api.create_hold_atomic(%'
"""


@dataclass(frozen=True)
class Shard:
    name: str
    server: ThrowawayPostgres
    salons: tuple[Catalogue, Catalogue]

    @property
    def url(self) -> str:
        return self.server.url("booking")


@dataclass(frozen=True)
class Deployment:
    east: Shard
    west: Shard
    base: str


def start_shard(name: str, stack: list[Any]) -> Shard:
    ctx = migrated_server(SETTINGS)
    server = ctx.__enter__()
    stack.append(ctx)
    with psycopg.connect(server.url("booking")) as conn:
        conn.execute("create extension pg_stat_statements")
        salons = tuple(
            seed_catalogue(conn, name=f"{name.title()} salon {n}", resources=1) for n in (1, 2)
        )
    return Shard(name, server, (salons[0], salons[1]))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    stack: list[Any] = []
    try:
        with ThreadPoolExecutor(2) as pool:
            east, west = pool.map(lambda n: start_shard(n, stack), ["east", "west"])
        directory = tmp_path_factory.mktemp("shards") / "shards.toml"
        lines = ["[locations]"] + [
            f'"{salon.location_id}" = "{shard.name}"'
            for shard in (east, west)
            for salon in shard.salons
        ]
        directory.write_text("\n".join(lines) + "\n")
        env = {
            "BOOKING_SHARDS": f"east={east.url},west={west.url}",
            "BOOKING_SHARD_DIRECTORY": str(directory),
            "BOOKING_MAINTENANCE_SECONDS": "0",
            "REDIS_URL": "",
            "BOOKING_WEBHOOK_POLL_SECONDS": "0.05",
            "BOOKING_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        }
        with running_gateway(east.url, env) as base:
            yield Deployment(east, west, base)
    finally:
        for ctx in reversed(stack):
            ctx.__exit__(None, None, None)


def hold_calls(shard: Shard) -> int:
    """How many times the shard's database ran api.create_hold_atomic (its own statistics)."""
    with psycopg.connect(shard.url, autocommit=True) as conn:
        row = conn.execute(HOLD_CALLS).fetchone()
        assert row is not None
        return int(row[0])


def shard_calls(base: str) -> dict[tuple[str, str], float]:
    """booking_shard_calls_total{shard, purpose} from the gateway's /metrics."""
    text = httpx.get(base + "/metrics", timeout=10).text
    found: dict[tuple[str, str], float] = {}
    for m in re.finditer(
        r'^booking_shard_calls_total\{purpose="(\w+)",shard="(\w+)"\} (\S+)$', text, re.M
    ):
        found[(m.group(2), m.group(1))] = float(m.group(3))
    return found


def refreshes(base: str) -> float:
    """Availability days the gateway's listener read ahead of readers (each a routed call)."""
    return metric(httpx.get(base + "/metrics", timeout=10).text, "booking_cache_refreshes_total")


def headers(mint: Callable[..., str], sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(sub)}"}


async def race_location(
    http: httpx.AsyncClient, mint: Callable[..., str], salon: Catalogue
) -> list[tuple[datetime, httpx.Response]]:
    """RACERS customers hold the location's SLOTS at once (racer i wants slot i mod 4)."""
    gate = asyncio.Event()

    async def racer(i: int) -> tuple[datetime, httpx.Response]:
        start = salon.start(DAY, SLOTS[i % len(SLOTS)])
        body = {"service_id": str(salon.service_id), "start_time": start.isoformat()}
        auth = headers(mint, f"racer-{salon.location_id}-{i}")
        await gate.wait()
        return start, await http.post("/v1/holds", json=body, headers=auth)

    tasks = [asyncio.create_task(racer(i)) for i in range(RACERS)]
    await asyncio.sleep(0)
    gate.set()
    return list(await asyncio.gather(*tasks))


def assert_one_winner_per_slot(
    shard: Shard, salon: Catalogue, answers: list[tuple[datetime, httpx.Response]]
) -> None:
    statuses = Counter(r.status_code for _, r in answers)
    assert set(statuses) <= {201, 409}, statuses  # no 404: nothing reached a shard without it
    winners = Counter(start for start, r in answers if r.status_code == 201)
    assert winners == {salon.start(DAY, at): 1 for at in SLOTS}, winners
    with psycopg.connect(shard.url) as conn:
        live = conn.execute(
            "select starts_at, count(*) from booking.reservations"
            " where location_id = %s and status in ('held', 'confirmed') group by 1",
            (salon.location_id,),
        ).fetchall()
        assert dict(live) == {salon.start(DAY, at): 1 for at in SLOTS}
        assert overlapping_live_pairs(conn, salon.location_id) == 0


async def test_racers_on_each_shard_stay_on_their_shard_and_each_slot_has_one_winner(
    deployment: Deployment, mint: Callable[..., str]
) -> None:
    base = deployment.base
    limits = httpx.Limits(max_connections=2 * RACERS, max_keepalive_connections=2 * RACERS)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        # every service is located once (api.locate on both shards), then never again
        for shard in (deployment.east, deployment.west):
            for salon in shard.salons:
                r = await http.get(
                    f"/v1/services/{salon.service_id}/availability", params={"date": str(DAY)}
                )
                assert r.status_code == 200, r.text
        for racing, idle in (
            (deployment.east, deployment.west),
            (deployment.west, deployment.east),
        ):
            before = {s.name: hold_calls(s) for s in (racing, idle)}
            metrics_before = shard_calls(base)
            refreshed_before = refreshes(base)
            answers = await asyncio.gather(
                *(race_location(http, mint, salon) for salon in racing.salons)
            )
            for salon, salon_answers in zip(racing.salons, answers, strict=True):
                assert_one_winner_per_slot(racing, salon, salon_answers)

            # the databases' own count: every hold ran on the racing shard, none on the other
            assert hold_calls(racing) - before[racing.name] == 2 * RACERS
            assert hold_calls(idle) == before[idle.name], f"{idle.name} ran holds of {racing.name}"
            # and the gateway's: each request sent once, to its location's shard, no lookups;
            # besides them only the listener's reads ahead of readers of the days the holds
            # changed (gateway/services/availability.py), on the same shard
            # (a read ahead is counted once it has landed: give one in flight a moment)
            settle = asyncio.get_running_loop().time() + 5
            while True:
                metrics = shard_calls(base)
                moved = {k: v - metrics_before.get(k, 0.0) for k, v in metrics.items()}
                moved = {k: v for k, v in moved.items() if v}
                ahead = refreshes(base) - refreshed_before
                expected = {(racing.name, "routed"): 2 * RACERS + ahead}
                if moved == expected or asyncio.get_running_loop().time() > settle:
                    break
                await asyncio.sleep(0.1)
            assert moved == expected, (moved, ahead)


async def test_a_customers_bookings_on_both_shards_come_back_merged_newest_first(
    deployment: Deployment, mint: Callable[..., str]
) -> None:
    auth = headers(mint, "traveller")
    salons = [s for shard in (deployment.east, deployment.west) for s in shard.salons]
    async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as http:
        made: list[tuple[datetime, str]] = []
        for n, salon in enumerate(salons):  # one booking per location, later at each
            start = salon.start(date(2031, 6, 1 + n), time(15))
            r = await http.post(
                "/v1/bookings",
                json={"service_id": str(salon.service_id), "start_time": start.isoformat()},
                headers=auth,
            )
            assert r.status_code == 201, r.text
            made.append((start, r.json()["booking_id"]))
        newest_first = [b for _, b in sorted(made, reverse=True)]

        listed = await http.get("/v1/bookings", headers=auth)
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        assert [i["id"] for i in items] == newest_first
        assert {i["location_id"] for i in items} == {str(s.location_id) for s in salons}

        limited = await http.get("/v1/bookings", params={"limit": 3}, headers=auth)
        assert [i["id"] for i in limited.json()["items"]] == newest_first[:3]

        # each booking is found (and cancelled) through its own shard
        for booking_id in newest_first:
            got = await http.get(f"/v1/bookings/{booking_id}", headers=auth)
            assert got.status_code == 200, got.text
        cancel = await http.post(f"/v1/bookings/{newest_first[0]}/cancel", json={}, headers=auth)
        assert cancel.status_code == 200, cancel.text

        locations = await http.get("/v1/locations")
        names = [loc["name"] for loc in locations.json()["items"]]
        assert names == [
            "East salon 1",
            "East salon 2",
            "West salon 1",
            "West salon 2",
        ]


async def test_a_location_the_directory_does_not_place_is_unknown(
    deployment: Deployment, mint: Callable[..., str]
) -> None:
    async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as http:
        stray = uuid.uuid4()
        r = await http.get(f"/v1/locations/{stray}/services")
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "BK019"
        created = await http.post(
            "/v1/locations",
            json={"name": "Nowhere", "time_zone": "UTC", "id": str(stray)},
            headers={"Authorization": f"Bearer {mint('boss', 'admin')}"},
        )
        assert created.status_code == 422, created.text
        unknown = await http.get(
            f"/v1/services/{uuid.uuid4()}/availability", params={"date": str(DAY)}
        )
        assert unknown.status_code == 404, unknown.text


def newest_event(shard: Shard) -> int:
    with psycopg.connect(shard.url) as conn:
        row = conn.execute("select coalesce(max(id), 0) from booking.events").fetchone()
        assert row is not None
        return int(row[0])


async def test_one_websocket_hears_every_shard_each_in_its_own_order(
    deployment: Deployment, mint: Callable[..., str]
) -> None:
    """Each shard numbers its events; a `user:` topic spans shards, so a subscriber must hear
    the shard whose log is behind as well as the one ahead; a `since` replays a topic from its
    own shard's log."""
    ahead, behind = sorted((deployment.east, deployment.west), key=newest_event, reverse=True)
    who = "listener"
    west = deployment.west  # not the home database: a replay must read the topic's own shard
    before = newest_event(west)
    ws = await connect(deployment.base, mint(who))
    try:
        await subscribe(ws, [f"user:{who}"])
        async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as http:
            for n, shard in enumerate((ahead, behind)):
                salon = shard.salons[0]
                start = salon.start(date(2031, 7, 1 + n), time(15))
                r = await http.post(
                    "/v1/bookings",
                    json={"service_id": str(salon.service_id), "start_time": start.isoformat()},
                    headers=headers(mint, who),
                )
                assert r.status_code == 201, r.text
                event = await next_event(ws)
                assert event["event"] == "booking:confirmed", event
                assert event["payload"]["reservation_id"] == r.json()["booking_id"], event
        # `since` is a place in the log of the topic's shard: a topic of one shard replays from
        # it, a topic spanning shards (one number cannot name a place in two logs) must resync
        west_day = date(2031, 7, 1 + (ahead, behind).index(west))
        day = f"availability:{west.salons[0].service_id}:{west_day}"
        later = await connect(deployment.base, mint(who))
        try:
            await later.send(
                json.dumps({"type": "subscribe", "topics": [day, f"user:{who}"], "since": before})
            )
            replies = [await recv_json(later) for _ in range(3)]
        finally:
            await later.close()
        replies = [m for m in replies if m["type"] != "heartbeat"]
        assert [m["type"] for m in replies] == ["subscribed", "resync", "event"], replies
        assert replies[1]["topics"] == [f"user:{who}"]
        assert replies[2]["topic"] == day and replies[2]["id"] > before, replies[2]
    finally:
        await ws.close()


async def test_each_shard_sends_its_own_locations_webhooks(
    deployment: Deployment, mint: Callable[..., str]
) -> None:
    """An endpoint is kept on its location's shard, and that shard's delivery worker sends it
    the location's events."""
    salons = {"east": deployment.east.salons[0], "west": deployment.west.salons[0]}
    admin = {
        "Authorization": "Bearer "
        + mint("hook-admin", "admin", locations=[str(s.location_id) for s in salons.values()])
    }
    receiver = Receiver().start()
    try:
        async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as http:
            booked: dict[str, str] = {}
            for n, (name, salon) in enumerate(salons.items()):
                made = await http.post(
                    f"/v1/locations/{salon.location_id}/webhooks",
                    json={"url": receiver.url(f"/{name}"), "event_types": ["booking:confirmed"]},
                    headers=admin,
                )
                assert made.status_code == 201, made.text
                endpoint = made.json()["id"]
                shown = await http.get(f"/v1/webhooks/{endpoint}", headers=admin)
                assert shown.status_code == 200, shown.text
                r = await http.post(
                    "/v1/bookings",
                    json={
                        "service_id": str(salon.service_id),
                        "start_time": salon.start(date(2031, 9, 1 + n), time(10)).isoformat(),
                    },
                    headers=headers(mint, "hooked"),
                )
                assert r.status_code == 201, r.text
                booked[name] = r.json()["booking_id"]
        deadline = asyncio.get_running_loop().time() + 20
        while not all(receiver.accepted(f"/{name}") for name in salons):
            assert asyncio.get_running_loop().time() < deadline, "no webhook in time"
            await asyncio.sleep(0.05)
        for name in salons:
            sent = [json.loads(got.body) for got in receiver.accepted(f"/{name}")]
            assert [e["data"]["reservation_id"] for e in sent] == [booked[name]]
    finally:
        receiver.stop()


async def test_a_location_moved_to_the_other_shard_keeps_its_bookings_and_its_guarantees(
    deployment: Deployment, mint: Callable[..., str], tmp_path: Path
) -> None:
    """The operator's move (docs/OPERATIONS.md): copy the location's rows to the other shard
    (`booking move-location`), then place it there in the directory. A gateway reading the new
    directory finds its bookings there, refuses its taken slots, and lists a customer's bookings
    once, although the old shard still holds a copy."""
    east, west = deployment.east, deployment.west
    moving = east.salons[1]
    who = "mover"  # books at the moving location (east) and already exists on west
    start = moving.start(date(2031, 8, 3), time(14))
    async with httpx.AsyncClient(base_url=deployment.base, timeout=30) as http:
        booked = await http.post(
            "/v1/bookings",
            json={"service_id": str(moving.service_id), "start_time": start.isoformat()},
            headers=headers(mint, who),
        )
        assert booked.status_code == 201, booked.text
        elsewhere = await http.post(
            "/v1/bookings",
            json={
                "service_id": str(west.salons[0].service_id),
                "start_time": west.salons[0].start(date(2031, 8, 4), time(14)).isoformat(),
            },
            headers=headers(mint, who),
        )
        assert elsewhere.status_code == 201, elsewhere.text
    booking_id = booked.json()["booking_id"]

    copied = move_location(east.url, west.url, moving.location_id)
    assert copied["locations"] == 1 and copied["services"] == 1
    assert copied["reservations"] >= 1 + len(SLOTS)  # the mover's, and the racers' winners

    directory = tmp_path / "shards.toml"
    placed = {s.location_id: "east" for s in east.salons} | {
        s.location_id: "west" for s in west.salons
    }
    placed[moving.location_id] = "west"
    directory.write_text(
        "[locations]\n" + "".join(f'"{loc}" = "{name}"\n' for loc, name in placed.items())
    )
    env = {
        "BOOKING_SHARDS": f"east={east.url},west={west.url}",
        "BOOKING_SHARD_DIRECTORY": str(directory),
        "BOOKING_MAINTENANCE_SECONDS": "0",
        "REDIS_URL": "",
    }
    with running_gateway(east.url, env) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            mine = await http.get("/v1/bookings", headers=headers(mint, who))
            assert sorted(i["id"] for i in mine.json()["items"]) == sorted(
                [booking_id, elsewhere.json()["booking_id"]]
            ), mine.text
            got = await http.get(f"/v1/bookings/{booking_id}", headers=headers(mint, who))
            assert got.status_code == 200, got.text
            taken = await http.post(
                "/v1/holds",
                json={"service_id": str(moving.service_id), "start_time": start.isoformat()},
                headers=headers(mint, "latecomer"),
            )
            assert taken.status_code == 409, taken.text
            free = moving.start(date(2031, 8, 3), time(15))
            held = await http.post(
                "/v1/holds",
                json={"service_id": str(moving.service_id), "start_time": free.isoformat()},
                headers=headers(mint, "latecomer"),
            )
            assert held.status_code == 201, held.text
            names = [loc["name"] for loc in (await http.get("/v1/locations")).json()["items"]]
            assert names == ["East salon 1", "East salon 2", "West salon 1", "West salon 2"]
    with psycopg.connect(west.url) as conn:  # the new hold is on the new shard
        row = conn.execute(
            "select location_id from booking.reservations where id = %s",
            (held.json()["hold_id"],),
        ).fetchone()
        assert row == (moving.location_id,)
        assert overlapping_live_pairs(conn, moving.location_id) == 0


LOC_A = "10000000-0000-4000-8000-000000000001"
LOC_B = "10000000-0000-4000-8000-000000000002"


@pytest.mark.parametrize(
    ("shards", "directory", "refusal"),
    [
        ("a=postgresql://h1/b", None, "set both"),
        ("a=postgresql://h1/b,a=postgresql://h2/b", f'[locations]\n"{LOC_A}" = "a"\n', "twice"),
        ("a=postgresql://h1/b,b=postgresql://h1/b", f'[locations]\n"{LOC_A}" = "a"\n', "same URL"),
        ("a=postgresql://h1/b", f'[locations]\n"{LOC_A}" = "c"\n', "not a shard"),
        ("a=postgresql://h1/b", '[locations]\n"salon-1" = "a"\n', "not a location id"),
        ("a=postgresql://h1/b", f'[places]\n"{LOC_A}" = "a"\n', "no [locations]"),
        (
            "a=postgresql://h1/b",
            f'[locations]\n"{LOC_A}" = "a"\n"{LOC_A.replace("-", "")}" = "a"\n',
            "named twice",
        ),
    ],
)
def test_a_gateway_refuses_a_shard_setting_it_cannot_trust(
    tmp_path: Path, shards: str, directory: str | None, refusal: str
) -> None:
    env = {"BOOKING_SHARDS": shards}
    if directory is not None:
        path = tmp_path / "shards.toml"
        path.write_text(directory)
        env["BOOKING_SHARD_DIRECTORY"] = str(path)
    with pytest.raises(DirectoryError, match=re.escape(refusal)):
        directory_from_env(env)


def test_without_shard_settings_there_is_one_database_and_with_them_a_directory(
    tmp_path: Path,
) -> None:
    assert directory_from_env({}) is None
    path = tmp_path / "shards.toml"
    path.write_text(f'[locations]\n"{LOC_A}" = "east"  # Mokotów\n"{LOC_B}" = "west"\n')
    found = directory_from_env(
        {
            "BOOKING_SHARDS": "east=postgresql://h1/b, west=postgresql://h2/b",
            "BOOKING_SHARD_DIRECTORY": str(path),
        }
    )
    assert found is not None
    assert found.shards == {"east": "postgresql://h1/b", "west": "postgresql://h2/b"}
    assert found.shard_of(uuid.UUID(LOC_B)) == "west"
    assert found.locations_on("east") == [uuid.UUID(LOC_A)]
