"""nginx and HAProxy in front of three gateways, configured as docs/OPERATIONS.md shows (each block
runs as it stands, only its addresses replaced): HTTP reaches every gateway, a websocket passes
through, and every client behind the balancer has a per-IP rate limit of its own, which writing
X-Forwarded-For does not escape."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.client import BookingClient
from testkit.ports import free_port
from testkit.processes import stop
from testkit.throwaway_redis import start_redis
from tests.fixtures import HttpCatalogue, next_test_day, running_gateway
from tests.support.availability_reads import metric
from tests.support.wsclient import connect, next_event, subscribe

ROOT = Path(__file__).resolve().parent.parent
# the per-IP budget of the gateways here: 4 requests, then one every 5 s (none within the test)
BURST, PER_SECOND = 4, 0.2
GATEWAYS = 3
HEALTH_SERVED = (
    'booking_http_request_duration_seconds_count{method="GET",route="/health",status="200"}'
)


@dataclass(frozen=True)
class Balancer:
    """How to run one balancer from its documented block: where its gateways and its listening
    address are written, and its command line given the configuration file and a directory."""

    name: str
    upstream: re.Pattern[str]  # group 1 is kept, the address after it replaced
    listen: re.Pattern[str]
    listen_as: str  # format with the port
    command: Callable[[str, str], list[str]]
    wrap: Callable[[str, str], str]  # (block, directory) -> the whole configuration file
    clients: tuple[str, str]  # two loopback addresses no other test uses

    def documented(self) -> str:
        text = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
        marker = f"<!-- {self.name}: tests/test_load_balancer.py runs this block -->\n"
        found = re.findall(re.escape(marker) + f"```{self.name}\n(.*?)```", text, re.S)
        assert len(found) == 1, f"docs/OPERATIONS.md shows one {self.name} block for this test"
        block: str = found[0]
        return block

    def configured(self, port: int, gateways: list[str]) -> str:
        """The documented block in front of `gateways`, listening on 127.0.0.1:`port`."""
        addresses = iter(g.removeprefix("http://") for g in gateways)
        block, servers = self.upstream.subn(
            lambda m: m.group(1) + next(addresses), self.documented()
        )
        assert servers == len(gateways), f"the {self.name} block names {servers} gateways"
        block, listens = self.listen.subn(self.listen_as.format(port), block)
        assert listens == 1, f"the {self.name} block listens once"
        return block


def nginx_file(block: str, directory: str) -> str:
    """The documented block is what goes into nginx's `http` context; around it, files of the
    test's own."""
    temp_paths = "".join(
        f"    {kind}_temp_path {directory}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log off;\n{temp_paths}{block}}}\n"
    )


BALANCERS = [
    Balancer(
        "nginx",
        re.compile(r"^(\s*server )\S+:\d+", re.M),
        re.compile(r"^(\s*listen )80;", re.M),
        r"\g<1>127.0.0.1:{};",
        lambda conf, d: ["/usr/sbin/nginx", "-p", d, "-c", conf, "-g", "daemon off;"],
        nginx_file,
        ("127.0.0.2", "127.0.0.3"),
    ),
    Balancer(
        "haproxy",
        re.compile(r"^(\s*server gw\d+ )\S+", re.M),
        re.compile(r"^(\s*bind ):80$", re.M),
        r"\g<1>127.0.0.1:{}",
        lambda conf, d: ["/usr/sbin/haproxy", "-db", "-q", "-f", conf],
        lambda block, d: block,
        ("127.0.0.4", "127.0.0.5"),
    ),
]


@contextmanager
def running_balancer(balancer: Balancer, gateways: list[str]) -> Iterator[str]:
    """The balancer, a process of its own with its own files, in front of `gateways`; its base
    URL once it answers /health."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"booking-{balancer.name}-") as tmp:
        os.chmod(tmp, 0o755)  # nginx started by root runs its worker as nobody
        conf = Path(tmp) / f"{balancer.name}.conf"
        conf.write_text(balancer.wrap(balancer.configured(port, gateways), tmp), encoding="utf-8")
        proc = subprocess.Popen(
            balancer.command(str(conf), tmp), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 15
            while True:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{balancer.name} did not answer in 15 s"
                time.sleep(0.05)
            yield base
        finally:
            stop(proc)


@pytest.fixture(scope="module")
def gateways(database_url: str) -> Iterator[list[str]]:
    """Three gateways on the session database and a Redis of this module's own (their small
    per-IP budget touches no other test)."""
    port = free_port()
    redis = start_redis(port)
    env = {
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "RATE_LIMIT_PER_SECOND": str(PER_SECOND),
        "RATE_LIMIT_BURST": str(BURST),
    }
    try:
        with ExitStack() as stack:
            yield [stack.enter_context(running_gateway(database_url, env)) for _ in range(GATEWAYS)]
    finally:
        redis.terminate()
        redis.wait(10)


@pytest.fixture(scope="module", params=BALANCERS, ids=[b.name for b in BALANCERS])
def balanced(
    request: pytest.FixtureRequest, gateways: list[str]
) -> Iterator[tuple[Balancer, str, list[str]]]:
    """(the balancer, its base URL, the gateways behind it)."""
    balancer: Balancer = request.param
    with running_balancer(balancer, gateways) as front:
        yield balancer, front, gateways


def test_http_through_the_balancer_reaches_every_gateway(
    balanced: tuple[Balancer, str, list[str]],
) -> None:
    _, front, gateways = balanced
    served = [metric(httpx.get(g + "/metrics").text, HEALTH_SERVED) for g in gateways]
    for _ in range(9):
        r = httpx.get(front + "/health")
        assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    now = [metric(httpx.get(g + "/metrics").text, HEALTH_SERVED) for g in gateways]
    assert sum(now) - sum(served) == 9
    assert all(after > before for before, after in zip(served, now, strict=True)), now


async def test_a_websocket_through_the_balancer_hears_a_hold_made_through_it(
    balanced: tuple[Balancer, str, list[str]],
    http_catalogue: HttpCatalogue,
    mint: Callable[..., str],
) -> None:
    balancer, front, _ = balanced
    cat, day = http_catalogue, next_test_day()
    topic = f"availability:{cat.solo_service_id}:{day.isoformat()}"
    ws = await connect(front, mint(f"lb-watcher-{balancer.name}"))
    await subscribe(ws, [topic])
    async with BookingClient(front, mint(f"lb-holder-{balancer.name}")) as c:
        hold = await c.create_hold(cat.solo_service_id, cat.at(day, 10), cat.at(day, 11))
    assert hold.status_code == 201, hold.text
    event = await next_event(ws)
    assert (event["topic"], event["payload"]["reservation_id"]) == (topic, hold.json()["hold_id"])
    await ws.close()


def test_each_client_behind_the_balancer_has_its_own_ip_budget(
    balanced: tuple[Balancer, str, list[str]], http_catalogue: HttpCatalogue
) -> None:
    """Two clients on different loopback addresses reach the gateways only through the balancer,
    so only the X-Forwarded-For it adds can tell them apart."""
    balancer, front, _ = balanced
    path = f"/v1/services/{http_catalogue.solo_service_id}/availability?date={next_test_day()}"

    def client(address: str) -> httpx.Client:
        return httpx.Client(base_url=front, transport=httpx.HTTPTransport(local_address=address))

    # one budget is BURST; each gateway decides in memory and shares its grants every 50 ms, so
    # the three together may let through up to (3 - 1) x (BURST + rate x 50 ms) more
    at_most = BURST + (GATEWAYS - 1) * (BURST + 1)
    with client(balancer.clients[0]) as first, client(balancer.clients[1]) as second:
        codes = [first.get(path).status_code for _ in range(at_most + 1)]
        assert codes[:BURST] == [200] * BURST
        assert set(codes) == {200, 429}, "the client's budget ran out"
        time.sleep(0.3)  # every gateway has shared its grants and heard the others'
        # what a client writes in the header itself is not the address the balancer saw
        spoofed = [
            first.get(path, headers={"X-Forwarded-For": "203.0.113.9"}).status_code
            for _ in range(GATEWAYS)
        ]
        assert spoofed == [429] * GATEWAYS
        assert second.get(path).status_code == 200  # the other client's budget is untouched
