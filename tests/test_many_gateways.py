"""Three gateway processes on one database and one Redis, as behind a load balancer: holds made
through one reach websocket subscribers of the other two, in commit order and once each; an
availability answer another process has cached is replaced within the listener's documented
bound; and one client spread over the three gets the rate budget of one limiter, not three."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date

import httpx
import psycopg
import pytest
from websockets.asyncio.client import ClientConnection

from gateway.client import BookingClient
from gateway.realtime.events import AVAILABILITY_UPDATED
from testkit.ports import free_port
from testkit.processes import stop
from testkit.throwaway_redis import start_redis
from tests.fixtures import HttpCatalogue, next_test_day, running_gateway
from tests.support.availability_reads import metric, served_from_the_map, starts
from tests.support.wsclient import connect, next_event, subscribe

# The gateways' BOOKING_LISTENER_POLL_SECONDS (its default, said out loud). docs/REALTIME.md: a
# process answers from its version map only while its listener finished a read of the event log
# within 2 x poll + 1 s; past that every read asks the database. So no answer to a read sent that
# long after a write committed may be older than the write.
POLL_SECONDS = 0.25
STALE_BOUND = 2 * POLL_SECONDS + 1.0

# The rate-limit test: a budget of RATE_BURST back to back, then RATE_PER_SECOND. One client
# sends SEND_RATE requests a second for SEND_SECONDS, round robin over the three gateways: about
# 3x what one limiter lets through, so three limiters that do not share would let through about
# three budgets, and the test can tell them from one shared budget (1.5x is the line). A
# limiter that reconciles with Redis every 100 ms or so may let a few requests too many through
# around each reconciliation; the load is light enough (6 requests per 100 ms) to stay far from
# the line.
RATE_PER_SECOND = 10.0
RATE_BURST = 20
SEND_RATE = 60.0
SEND_SECONDS = 2.5
SHARED_FACTOR = 1.5

IN_PROCESS_HITS = (  # the whole answer's bytes, or the day's slots, from this process's memory
    'booking_cache_requests_total{result="hit_answer"}',
    'booking_cache_requests_total{result="hit_local"}',
)


def in_process_hits(metrics: str) -> float:
    return sum(metric(metrics, name) for name in IN_PROCESS_HITS)


@contextmanager
def three_gateways(database_url: str, env: dict[str, str]) -> Iterator[list[str]]:
    """Three `booking serve` processes (running_gateway) on free ports; their base URLs."""
    with ExitStack() as stack:
        yield [stack.enter_context(running_gateway(database_url, env)) for _ in range(3)]


@pytest.fixture(scope="module")
def module_redis() -> Iterator[str]:
    """A redis-server of this module's own: the rate-limit test's small budget and its keys
    (per client IP, 127.0.0.1 for every test) then touch no gateway of another test."""
    port = free_port()
    proc = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def gateways(database_url: str, module_redis: str) -> Iterator[list[str]]:
    """A, B and C: three gateways on the session database and Redis database 0."""
    env = {"REDIS_URL": f"{module_redis}/0", "BOOKING_LISTENER_POLL_SECONDS": str(POLL_SECONDS)}
    with three_gateways(database_url, env) as bases:
        yield bases


def day_topic(service_id: str, day: date) -> str:
    return f"availability:{service_id}:{day.isoformat()}"


def last_event_id(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select api.last_event_id()").fetchone()
    assert row is not None
    return int(row[0])


def logged_messages(database_url: str, since: int, topics: list[str]) -> list[tuple[int, str, str]]:
    """What a subscriber of `topics` must hear after `since`, from the event log itself: one
    (id, topic, event) per event and subscribed topic, in id order."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select id, type, topics from api.read_events(%s, 1000, %s)", (since, topics)
        ).fetchall()
    return [
        (event_id, topic, name)
        for event_id, kind, event_topics in rows
        for topic in event_topics
        if topic in topics
        for name in [AVAILABILITY_UPDATED if topic.startswith("availability:") else kind]
    ]


async def heard_until(ws: ClientConnection, reservation_id: str) -> list[tuple[int, str, str]]:
    """Every event message up to and including the one for `reservation_id`'s hold."""
    heard: list[tuple[int, str, str]] = []
    while True:
        m = await next_event(ws)
        heard.append((m["id"], m["topic"], m["event"]))
        if m["payload"].get("reservation_id") == reservation_id:
            return heard


async def test_holds_through_one_gateway_reach_subscribers_of_the_other_two_in_order_once_each(
    gateways: list[str],
    database_url: str,
    http_catalogue: HttpCatalogue,
    mint: Callable[..., str],
) -> None:
    a, b, c = gateways
    cat = http_catalogue
    service, day = cat.solo_service_id, next_test_day()
    topics = [day_topic(service, day), "user:mg-holder"]
    since = last_event_id(database_url)
    sockets = [await connect(base, mint(f"mg-watch-{i}", "staff")) for i, base in enumerate((b, c))]
    for ws in sockets:
        await subscribe(ws, topics)

    async with BookingClient(a, mint("mg-holder")) as holder:
        holds = [
            await holder.create_hold(service, cat.at(day, h), cat.at(day, h + 1))
            for h in (9, 10, 11)
        ]
        assert [r.status_code for r in holds] == [201, 201, 201], [r.text for r in holds]
        middle = holds[1].json()
        released = await holder.release_hold(middle["hold_id"], middle["session_id"])
        assert released.status_code == 200, released.text
        # the last write, by someone else: heard on the day's topic only, it closes the stream
        last = await holder.with_token(mint("mg-last")).create_hold(
            service, cat.at(day, 14), cat.at(day, 15)
        )
        assert last.status_code == 201, last.text

    heard = [await heard_until(ws, last.json()["hold_id"]) for ws in sockets]
    expected = logged_messages(database_url, since, topics)
    assert heard[0] == expected
    assert heard[1] == expected
    mine = [name for _, topic, name in expected if topic == "user:mg-holder"]
    assert mine == ["hold:created"] * 3 + ["hold:released"]
    for topic in topics:  # each topic in increasing ids: in commit order, none twice
        ids = [event_id for event_id, t, _ in expected if t == topic]
        assert ids == sorted(set(ids))
    for ws in sockets:  # and nothing after the last write: no event was sent twice
        with pytest.raises(TimeoutError):
            await next_event(ws, within=2 * POLL_SECONDS)
        await ws.close()


async def test_a_write_through_one_gateway_replaces_anothers_cached_answer_within_the_bound(
    gateways: list[str], http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    a, b, c = gateways
    cat = http_catalogue
    service, day = cat.solo_service_id, next_test_day()
    slot = "12:00"
    loop = asyncio.get_running_loop()
    async with BookingClient(b) as reader:
        await reader.availability(service, day)  # B reads the day from the database, caches it
        hits = in_process_hits((await reader.request("GET", "/metrics")).text)
        cached = await served_from_the_map(reader, service, day)
        assert in_process_hits((await reader.request("GET", "/metrics")).text) > hits
        assert slot in starts(cached.json(), day)

        async with BookingClient(a, mint("mg-cache-writer")) as writer:
            hold = await writer.create_hold(service, cat.at(day, 12), cat.at(day, 13))
        assert hold.status_code == 201, hold.text
        written = loop.time()  # the hold has committed

        # (seconds after the write that B was asked, whether B's answer still showed the slot)
        seen: list[tuple[float, bool]] = []
        while not seen or seen[-1][0] <= STALE_BOUND + POLL_SECONDS:
            asked = loop.time() - written
            r = await reader.availability(service, day)
            assert r.status_code == 200, r.text
            seen.append((asked, slot in starts(r.json(), day)))
            final = r.json()
            await asyncio.sleep(0.02)

    taken = [asked for asked, free in seen if not free]
    assert taken, f"B still showed {slot} free {seen[-1][0]:.2f} s after the write"
    assert taken[0] < STALE_BOUND, f"B showed {slot} free until {taken[0]:.2f} s after the write"
    assert not any(free for asked, free in seen if asked >= taken[0]), "B went back to stale"
    for base in (a, c):  # and B now answers as the other two do
        async with BookingClient(base) as other:
            assert starts((await other.availability(service, day)).json(), day) == starts(
                final, day
            )


@dataclass(frozen=True)
class Spread:
    """One client's requests spread round robin over several gateways."""

    codes: dict[str, Counter[int]]  # per gateway: status code -> how many
    seconds: float  # from the first request sent to the last answer

    @property
    def allowed(self) -> int:
        return sum(c[200] for c in self.codes.values())

    @property
    def one_budget(self) -> float:
        """What one limiter lets through in that time."""
        return RATE_BURST + RATE_PER_SECOND * self.seconds


async def spread_requests(bases: list[str], token: str, url_path: str) -> Spread:
    """SEND_RATE requests a second for SEND_SECONDS, request i to gateway i mod 3, each sent on
    time whatever the answers to the earlier ones take."""
    loop = asyncio.get_running_loop()
    codes = {base: Counter[int]() for base in bases}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=None)) as http:
        start = loop.time()

        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, start + i / SEND_RATE - loop.time()))
            base = bases[i % len(bases)]
            codes[base][(await http.get(base + url_path, headers=headers)).status_code] += 1

        await asyncio.gather(*(one(i) for i in range(int(SEND_RATE * SEND_SECONDS))))
        return Spread(codes, loop.time() - start)


@pytest.mark.parametrize("backend", ["auto", "local"])
async def test_one_client_spread_over_three_gateways_gets_the_budget_of_one_limiter(
    backend: str,
    database_url: str,
    module_redis: str,
    http_catalogue: HttpCatalogue,
    mint: Callable[..., str],
) -> None:
    """With Redis (`auto`) the three gateways share one budget; the same load on three
    in-process limiters (`local`) gets about three, which the assertion refuses: it can fail."""
    env = {
        # database 1: the small budget never meets the keys of the other gateways of this module
        "REDIS_URL": f"{module_redis}/1",
        "RATE_LIMIT_BACKEND": backend,
        "RATE_LIMIT_PER_SECOND": str(RATE_PER_SECOND),
        "RATE_LIMIT_BURST": str(RATE_BURST),
    }
    path = f"/v1/services/{http_catalogue.solo_service_id}/availability?date={next_test_day()}"
    with three_gateways(database_url, env) as bases:
        spread = await spread_requests(bases, mint(f"mg-limited-{backend}"), path)

    for base, codes in spread.codes.items():
        assert set(codes) <= {200, 429}, (base, codes)
    within_one = spread.allowed <= SHARED_FACTOR * spread.one_budget
    detail = (
        f"{spread.allowed} allowed in {spread.seconds:.2f} s, one budget {spread.one_budget:.0f}"
    )
    if backend == "local":
        assert not within_one, f"three separate limiters looked like one: {detail}"
        return
    assert within_one, detail
    assert spread.allowed >= spread.one_budget / 2, (
        f"the shared budget starved the client: {detail}"
    )
    for base, codes in spread.codes.items():  # every gateway enforced it, every one let some in
        assert codes[200] > 0 and codes[429] > 0, (base, codes)
